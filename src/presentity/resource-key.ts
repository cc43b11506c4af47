/**
 * A resource (presentity) is named `user@domain`: the lower-cased user part and host of the URI it is addressed by.
 * Hosts are case-insensitive (RFC 3261 §19.1.4); user parts are compared lower-cased too, because phones and PBXs
 * disagree on the case of extensions such as `*3101` or named users.
 */
export type ResourceKey = string;

export function resourceKey(user: string, domain: string): ResourceKey {
  return `${user.toLowerCase()}@${domain.toLowerCase()}`;
}

/** Splits at the last `@`: a user part may carry an escaped `@`, a host never does. */
export function splitResourceKey(key: ResourceKey): { user: string; domain: string } {
  const at = key.lastIndexOf('@');
  if (at === -1) return { user: '', domain: key };
  return { user: key.slice(0, at), domain: key.slice(at + 1) };
}

/**
 * The domains under which `user` (lower-cased, as in keys) appears among `keys`. A scan of every key: for admin
 * commands that must find an extension in each domain an account serves, not for the SIP path.
 */
export function domainsOfUser(keys: Iterable<ResourceKey>, user: string): string[] {
  const prefix = `${user}@`;
  const out: string[] = [];
  for (const key of keys) {
    if (key.startsWith(prefix) && key.indexOf('@', prefix.length) === -1) out.push(key.slice(prefix.length));
  }
  return out;
}

/** The URI written as `entity` in bodies (RFC 4235 §4.1, RFC 3863 §4.1.1). */
export function entityOf(key: ResourceKey): string {
  return `sip:${key}`;
}
