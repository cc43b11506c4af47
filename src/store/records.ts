/**
 * Plain, serialisable records that cross the persistence port. No class instances, no Maps, no SQLite types:
 * the same shapes must later travel to a distributed engine (a cluster of Piston nodes), so every field is
 * JSON-able except `PublicationRecord.body`, a Buffer because PUBLISH bodies are kept byte-exact (RFC 3903 §4.2).
 *
 * Normalisation is the caller's job: the store compares strings exactly. The notifier lower-cases `resource`,
 * `domain` and `watcherDomain` before it writes (hosts are case-insensitive, RFC 3261 §19.1.4).
 *
 * Accounts, devices, users, API keys and tokens (the admin API's records) are at the end of this file. Secrets never
 * appear in them in the clear: passwords, API keys and tokens are stored only as hashes.
 */

/** Any value JSON can carry. Used for data the event packages own and the store treats as opaque. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Where NOTIFYs for a subscription go out: the flow the SUBSCRIBE came in on (RFC 5626-style flow reuse). */
export interface FlowRecord {
  /**
   * The transport's name as the transport layer spells it (`udp`, `tcp`; sip/transport/transport-descriptor.ts). The
   * store keeps it as an opaque string, so a new transport needs no migration; the reader maps it to its descriptor.
   */
  protocol: string;
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  /** The TCP connection the SUBSCRIBE arrived on; null for UDP, or when it is gone. */
  connectionId: number | null;
  /**
   * True when the request on this flow came from a trusted peer (the policy's identity of kind `peer`): only then are
   * the dialog's route set and the watcher's Contact dialled (subscriptions/subscription-dialog.ts). Absent for every
   * other source, and in rows written before it existed: their NOTIFYs go on this flow or nowhere. Kept inside the
   * flow's JSON column, so it needs no migration.
   */
  trustedPeer?: true;
}

/** The last NOTIFY we sent in a subscription and how the watcher answered it (api-contract.md, `notify`). */
export interface LastNotifyRecord {
  /** CSeq of that NOTIFY. */
  cseq: number;
  /** Final status code the watcher answered with; 0 while no answer has arrived. */
  reply: number;
  /** The NOTIFY body as sent (text: every supported package has a text body). */
  body: string;
}

/**
 * One RFC 6665 subscription dialog held by the notifier.
 *
 * Identity: `id` is the dialog id `${callId};${localTag};${remoteTag}` (see `subscriptionId()` in keys.ts).
 * `;` cannot occur inside a Call-ID (RFC 3261 §25.1 `word`) nor a tag (`token`), so the joined form is unambiguous
 * and a single string key suits every backend. The Event `id` parameter is not part of `id`: a dialog carries at
 * most one subscription per (event, eventId) here, and the notifier rejects the rest.
 */
export interface SubscriptionRecord {
  /** `${callId};${localTag};${remoteTag}`. */
  id: string;
  callId: string;
  /** Our tag: the To-tag we put on the 200 to the SUBSCRIBE. */
  localTag: string;
  /** The watcher's From-tag. */
  remoteTag: string;
  /** Event package name: `dialog`, `presence`, `message-summary`. */
  event: string;
  /** The Event header's `id` parameter, echoed in every NOTIFY (RFC 6665 §8.2.1); null when absent. */
  eventId: string | null;
  /** Lower-cased user part of the watched URI (`1001`, `*3101`). */
  resource: string;
  /** Lower-cased host of the watched URI; selects the account by its realm. */
  domain: string;
  accountId: string | null;
  /** User part of the watcher's From URI. */
  watcherUser: string;
  /** Host of the watcher's From URI, lower-cased. */
  watcherDomain: string;
  /** The watcher's From URI as text. */
  watcherUri: string;
  /** The watched URI as text (To / Request-URI of the SUBSCRIBE). */
  resourceUri: string;
  /** Remote target: the watcher's Contact URI (RFC 3261 §12.1.1). */
  contact: string;
  /** Route set from Record-Route, in the order our in-dialog requests use it (RFC 3261 §12.1.1). */
  routeSet: string[];
  flow: FlowRecord;
  /** CSeq of the last NOTIFY we sent; never goes back, also across restarts (sip-behaviour.md, NOTIFY). */
  localCseq: number;
  /** CSeq of the last SUBSCRIBE accepted in this dialog (RFC 3261 §12.2.2 ordering). */
  remoteCseq: number;
  /** The next RFC 4235 §4.1 `version` to send this watcher (starts at 0, rises by one per document). */
  version: number;
  /** Accept types the watcher listed, lower-cased; empty when it sent no Accept. */
  acceptTypes: string[];
  /** Expires granted in the last 200, in seconds. */
  grantedExpires: number;
  /** When the subscription lapses, ms since the Unix epoch. */
  expiresAt: number;
  /** ms epoch of the initial SUBSCRIBE. */
  createdAt: number;
  /** ms epoch of the last (re)SUBSCRIBE. */
  refreshedAt: number;
  /** Consecutive NOTIFY failures that count as strikes (408 / Timer F over UDP). */
  strikes: number;
  /** Null before any NOTIFY was sent. */
  lastNotify: LastNotifyRecord | null;
  /** Name of the server node that holds this dialog (api-contract.md `stalker`). */
  node: string;
}

/** One PUBLISH-established event state (RFC 3903 §4): keyed by (resource, event, etag). */
export interface PublicationRecord {
  /** `user@domain`, lower-cased by the caller. */
  resource: string;
  event: string;
  /** Our entity tag (RFC 3903 §4.1). */
  etag: string;
  /** Arrival order, monotonic per store (from `PublicationRepository.nextSeq()`); aggregation replays in this order. */
  seq: number;
  /** Media type of `body`, e.g. `application/dialog-info+xml`. */
  contentType: string;
  /** The body exactly as published. */
  body: Buffer;
  /** The body as the event package parsed it, or null when it keeps none. */
  document: JsonValue | null;
  /** ms epoch. */
  expiresAt: number;
  /** ms epoch of the last PUBLISH that created, refreshed or modified it. */
  updatedAt: number;
}

/** Manual call state set through the admin API (api-contract.md): early = ringing, confirmed = busy, terminated = idle. */
export type ManualState = 'early' | 'confirmed' | 'terminated';

/** Per-resource state that is not a publication. Event-agnostic: dialog and presence watchers both read it. */
export interface ResourceStateRecord {
  /** `user@domain`, lower-cased by the caller. */
  resource: string;
  /** Manual state from the admin API, replayed to new watchers until reset; null when none. */
  manualState: ManualState | null;
  /** Owned by the event packages (e.g. which dialog ids have terminated); the store never looks inside. */
  history: JsonValue;
  /** ms epoch. */
  updatedAt: number;
}

/** Message-waiting counts for one mailbox (RFC 3842 §5.2 `Voice-Message: new/old (urgent_new/urgent_old)`). */
export interface MailboxRecord {
  /** `user@domain`, lower-cased by the caller. */
  mailbox: string;
  newMessages: number;
  oldMessages: number;
  urgentNew: number;
  urgentOld: number;
  /** ms epoch. */
  updatedAt: number;
}

/**
 * An account (api-contract.md): the tenant that owns a SIP realm. Accounts form a tree through `parentId`; a token
 * sees its own account and every descendant.
 */
export interface AccountRecord {
  /** 32 lower-case hex. */
  id: string;
  name: string;
  /** The SIP domain the account serves, lower-cased by the caller; unique (the accounts service enforces it). */
  realm: string;
  /** Null for a root account (the first, "master", one). */
  parentId: string | null;
  /**
   * Digest algorithms the SIP challenge offers, strongest first (security.md §2.3); absent or empty: MD5 only, the
   * default every phone handles. Values: `SHA-512-256`, `SHA-256`, `MD5`.
   */
  digestAlgorithms?: string[];
  /** ms epoch. */
  createdAt: number;
  updatedAt: number;
}

/** A SIP device of an account. Its resource for presence is `presenceId` (without any `@realm`), else `sipUsername`. */
export interface DeviceRecord {
  id: string;
  accountId: string;
  name: string;
  /** As entered; unique within the account, compared lower-cased (by the devices service). */
  sipUsername: string;
  /** scrypt hash of the SIP password (`scrypt$N$r$p$salt$hash`); the password itself is never stored. */
  sipPasswordHash: string;
  presenceId: string | null;
  /** A user of the same account. */
  ownerId: string | null;
  createdAt: number;
  updatedAt: number;
  /**
   * Digest secrets (security.md §2.4), made when the SIP password is set; absent (stores read a null back as absent)
   * for a device whose password was set before they existed: it cannot authenticate until a new password is set.
   */
  sipDigest?: DeviceDigestRecord | null;
}

/**
 * A device's HA1s for one realm: per algorithm over `username:realm:password`, and `ha1bMd5` over
 * `username@realm:realm:password` (Kamailio's ha1b). Password-equivalent within the realm: never returned, never
 * logged. Another realm than the account's (after a realm change) makes them useless until a new password is set.
 */
export interface DeviceDigestRecord {
  realm: string;
  ha1Md5: string;
  ha1bMd5: string;
  ha1Sha256: string;
  ha1Sha512_256: string;
}

/** A user of an account; `username`/password let it log in with `PUT /v2/user_auth`. */
export interface UserRecord {
  id: string;
  accountId: string;
  firstName: string;
  lastName: string;
  presenceId: string | null;
  /** As entered; unique within the account, compared lower-cased. Null when the user cannot log in. */
  username: string | null;
  /** scrypt hash of the password; null with `username`. */
  passwordHash: string | null;
  /** Hash of the user_auth credentials `md5(lower(username):password)` (see the auth service); null with `username`. */
  credentialsHash: string | null;
  createdAt: number;
  updatedAt: number;
}

/** An API key of an account, known only by its SHA-256 (the key is 256 random bits, so a fast hash suffices). */
export interface ApiKeyRecord {
  /** Hex SHA-256 of the key. */
  keyHash: string;
  accountId: string;
  createdAt: number;
}

/** How an auth token was obtained. */
export type AuthMethod = 'api_key' | 'credentials';

/** An issued auth token, known only by its SHA-256. It lapses after an idle period counted from `lastUsedAt`. */
export interface AuthTokenRecord {
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  accountId: string;
  /** The user that logged in, or null for an API key. */
  ownerId: string | null;
  method: AuthMethod;
  createdAt: number;
  /** ms epoch of the last request that used it. */
  lastUsedAt: number;
}
