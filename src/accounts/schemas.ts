import { z } from 'zod';

/**
 * The shapes of the admin API's `data` objects for accounts, devices and users, in one place: the services validate
 * with them and the OpenAPI document is generated from them, so the two cannot drift apart.
 *
 * Unknown fields are dropped, not refused: Kazoo-style clients GET a document, change a field and POST it back whole,
 * carrying fields (ids, timestamps, platform extras) this server does not keep.
 */

/** Characters of a SIP URI user part that need no escaping (RFC 3261 §25.1 `unreserved` / `user-unreserved`). */
const USER_CHARS = "A-Za-z0-9\\-_.!~*'()&=+$,;?";
export const SIP_USER_PATTERN = new RegExp(`^[${USER_CHARS}]{1,64}$`);
/** A presence id is a user part, optionally written `id@realm` (the realm part is ignored, api-contract.md). */
export const PRESENCE_ID_PATTERN = new RegExp(`^[${USER_CHARS}]{1,64}(@[A-Za-z0-9.\\-]{1,253})?$`);
/** A DNS name or IPv4 address: the SIP domain an account serves (RFC 3261 §25.1 `host`, without IPv6 references). */
export const REALM_PATTERN = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
/** Account, device and user ids (api-contract.md). */
export const ID_PATTERN = /^[0-9a-f]{32}$/;

const text = z.string().trim().min(1).max(128);
const secret = z.string().min(1).max(128);
const realm = z.string().max(253).regex(REALM_PATTERN);
const sipUser = z.string().regex(SIP_USER_PATTERN);
const presenceId = z.string().regex(PRESENCE_ID_PATTERN).nullable().optional();
const id = z.string().regex(ID_PATTERN);

export const accountSchema = z.object({
  name: text,
  realm,
  /** SIP digest algorithms to offer, strongest first (security.md §2.3); absent: MD5 only. */
  digest_algorithms: z
    .array(z.enum(['SHA-512-256', 'SHA-256', 'MD5']))
    .min(1)
    .max(3)
    .refine((l) => new Set(l).size === l.length, 'each algorithm once')
    .optional(),
});

export const deviceCreateSchema = z.object({
  name: text,
  sip: z.object({ username: sipUser, password: secret }),
  presence_id: presenceId,
  owner_id: id.nullable().optional(),
});

/** POST replaces the document; the SIP password is never returned, so leaving it out keeps the stored one. */
export const deviceUpdateSchema = deviceCreateSchema.extend({
  sip: z.object({ username: sipUser, password: secret.optional() }),
});

export const userSchema = z.object({
  first_name: text,
  last_name: text,
  presence_id: presenceId,
  /** Login name for `PUT /v2/user_auth`; with it a password is required (on create, and when it changes). */
  username: z.string().trim().min(1).max(128).nullable().optional(),
  password: secret.optional(),
});

export const apiAuthSchema = z.object({ api_key: z.string().max(1024) });

export const userAuthSchema = z.object({
  credentials: z.string().max(1024),
  account_name: z.string().max(128).optional(),
  account_realm: z.string().max(253).optional(),
});

export type AccountInput = z.infer<typeof accountSchema>;
export type DeviceCreateInput = z.infer<typeof deviceCreateSchema>;
export type DeviceUpdateInput = z.infer<typeof deviceUpdateSchema>;
export type UserInput = z.infer<typeof userSchema>;
