import { z } from 'zod';
import { ID_PATTERN } from '../accounts/schemas.js';
import { MANUAL_STATES } from '../events/event-package.js';

/**
 * The shapes of what the admin API answers, in one place: routes declare them (route-spec.ts), the OpenAPI document
 * is generated from them (openapi.ts), views.ts is typed by them and test/api/openapi-answers.test.ts checks real
 * answers against them. Objects are strict: a field a view adds without declaring it here is a drift the test sees.
 *
 * Named schemas are registered under a component name (`#/components/schemas/<name>` in the document), so a client
 * generator gets named types.
 */
export const namedAnswers = new Map<string, z.ZodType>();

export function named<T extends z.ZodType>(id: string, schema: T): T {
  if (namedAnswers.has(id)) throw new Error(`answer schema ${id} named twice`);
  namedAnswers.set(id, schema);
  return schema;
}

const id = z.string().regex(ID_PATTERN);
const count = z.number().int().min(0);
const states = MANUAL_STATES as unknown as [string, ...string[]];

// Accounts, devices, users (views.ts).

export const accountAnswer = named(
  'Account',
  z.strictObject({
    id,
    name: z.string(),
    parent_id: id.nullable().describe('null for the master account'),
    realm: z.string().describe('The SIP domain the account serves'),
    digest_algorithms: z
      .array(z.enum(['SHA-512-256', 'SHA-256', 'MD5']))
      .optional()
      .describe('Digest algorithms the SIP challenge offers, strongest first; absent: MD5 only'),
  }),
);

export const deviceAnswer = named(
  'Device',
  z.strictObject({
    id,
    name: z.string(),
    owner_id: id.optional().describe('The user owning the device, when set'),
    presence_id: z.string().optional(),
    sip: z
      .strictObject({
        username: z.string(),
        digest_ready: z
          .boolean()
          .describe('The device can answer a SIP digest challenge; false until a password is set again (set before digest was kept, or before a realm change)'),
      })
      .describe('The password is never returned'),
  }),
);

export const deviceSummaryAnswer = named(
  'DeviceSummary',
  z.strictObject({
    id,
    name: z.string(),
    owner_id: id.optional(),
    presence_id: z.string().optional(),
    username: z.string().describe("The device's SIP user name"),
  }),
);

export const userAnswer = named(
  'User',
  z.strictObject({
    id,
    first_name: z.string(),
    last_name: z.string(),
    presence_id: z.string().optional(),
    username: z.string().optional().describe('Login name for user_auth; the password is never returned'),
  }),
);

export const trustedPeerAnswer = named(
  'TrustedPeer',
  z.strictObject({
    id,
    cidr: z.string().describe('Canonical CIDR: 10.0.0.0/8, 2001:db8::/32, a single address as /32 or /128'),
    transport: z.enum(['udp', 'tcp', 'tls', 'ws', 'wss']).optional().describe('Only this transport is trusted; absent: any'),
    fingerprint: z
      .string()
      .optional()
      .describe('SHA-256 of the TLS client certificate the peer must present, upper-case hex pairs joined by ":"'),
    name: z.string().optional(),
  }),
);

// Authentication (auth-routes.ts); the token itself is the envelope's auth_token.

export const tokenAnswer = named(
  'TokenGrant',
  z.strictObject({
    account_id: id,
    account_name: z.string(),
    owner_id: id.nullable().describe('The user the token was issued to (user_auth); null for an API key'),
  }),
);

export const emptyAnswer = z.strictObject({});

// Presence (presence-view.ts, presence-admin.ts).

const subscriptionFields = {
  expires: count.describe('Granted expiry in seconds'),
  from: z.string().describe('The watcher, user@realm'),
  notify: z
    .strictObject({
      body: z.string().describe('Body of the last NOTIFY; the string "undefined" before any'),
      reply: count.describe('Status code the watcher answered the last NOTIFY with; 0 before any'),
      sequence: count.describe('CSeq of the last NOTIFY; 0 before any'),
    })
    .describe('The last NOTIFY sent in this subscription'),
  stalker: z.string().describe('The server node holding the dialog'),
  timestamp: count.describe('Gregorian seconds (Unix + 62167219200) of the last (re)SUBSCRIBE'),
  version: count.describe('State documents sent to this watcher so far (the next dialog-info version)'),
};

export const subscriptionAnswer = named('Subscription', z.strictObject(subscriptionFields));

/** `{key: value}` maps keyed by data (resources, events, Call-IDs). */
const keyed = <T extends z.ZodType>(value: T, key: string): z.ZodRecord<z.ZodString, T> =>
  z.record(z.string(), value).describe(`Keyed by ${key}`);

export const presenceListAnswer = named(
  'PresenceList',
  z.strictObject({
    subscriptions: keyed(
      keyed(keyed(subscriptionAnswer, 'SUBSCRIBE Call-ID'), 'event package: dialog, presence or message-summary'),
      'resource: the lower-cased user part of the watched URI',
    ),
  }),
);

export const watcherAnswer = named(
  'Watcher',
  z.strictObject({
    ...subscriptionFields,
    contact: z.string().describe("The watcher's Contact URI"),
    expires_in: count.describe('Seconds until the subscription lapses'),
    transport: z.string().describe('The transport its NOTIFYs take: udp, tcp, tls, ws or wss'),
  }),
);

export const resourceStateAnswer = named(
  'ResourceState',
  z.strictObject({
    mailbox: z
      .strictObject({ new_messages: count, old_messages: count, urgent_new: count, urgent_old: count })
      .nullable()
      .describe('Message-waiting counts; null when none were ever set'),
    manual_state: z.enum(states).nullable().describe('State set through the API, until a reset'),
    publications: z
      .array(
        z.strictObject({
          content_type: z.string(),
          etag: z.string(),
          event: z.string(),
          expires_in: count.describe('Seconds until the publication lapses'),
          updated: count.describe('Gregorian seconds of the last PUBLISH'),
        }),
      )
      .describe('Live publications, in arrival order'),
    resource: z.string().describe('user@realm'),
    watchers: keyed(keyed(watcherAnswer, 'SUBSCRIBE Call-ID'), 'event package'),
  }),
);

export const extensionCommandAnswer = z
  .union([z.string().regex(/^reset command sent for extension .+$/), z.literal('command sent')])
  .describe('"reset command sent for extension <EXTENSION>" for a reset, "command sent" for a set');
export const deviceCommandAnswer = z.literal('command sent');
export const userCommandAnswer = z
  .enum(['command sent', 'nothing to send command to'])
  .describe('"nothing to send command to" when the user has no presence_id and owns no device');

// Operations (ops-routes.ts): bodies of their own, not in the envelope.

export const healthAnswer = named(
  'Health',
  z.strictObject({
    sip: z.enum(['ready', 'not_ready']),
    status: z.enum(['ok', 'unavailable']).describe('ok (200) when SIP and the store are ready, else unavailable (503)'),
    store: z
      .enum(['ready', 'not_ready', 'failing'])
      .describe('ready: open and writing; not_ready: closed; failing: open, but its writes fail (see store_fault)'),
    cluster: z
      .enum(['ok', 'degraded'])
      .optional()
      .describe('Cluster mode only: degraded while the shared Redis does not answer (island mode: local SIP goes on)'),
    store_fault: z
      .strictObject({
        cause: z.string().describe("The database's own words, e.g. database disk image is malformed"),
        code: z.string().describe('e.g. SQLITE_CORRUPT (a damaged page), SQLITE_FULL, SQLITE_IOERR, SQLITE_BUSY'),
        failed_flushes: count.describe('Flushes that failed since the store opened; each is retried'),
        since: z.string().nullable().describe('When writes began to fail (ISO 8601)'),
      })
      .optional()
      .describe('Only while store is failing'),
  }),
);

export const metricsAnswer = z.string().describe('Prometheus text exposition format');

export const openApiAnswer = z
  .looseObject({ openapi: z.literal('3.1.0'), info: z.looseObject({}), paths: z.record(z.string(), z.looseObject({})) })
  .describe('This document');
