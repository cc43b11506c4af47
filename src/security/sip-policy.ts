import type { Clock } from '../lib/clock.js';
import type { DigestAlgorithm } from '../lib/digest-hash.js';
import { silentLogger, type Logger } from '../lib/logger.js';
import type { PublishAuthorizationInput, PublishPolicy } from '../presentity/publish/publish-policy.js';
import type { Authorization } from '../sip/message/message.js';
import { ParseError } from '../sip/message/parse-error.js';
import type {
  AuthenticationInput,
  AuthenticationResult,
  AuthorizationResult,
  PolicyResponse,
  RequestIdentity,
} from '../sip/ua/request-policy.js';
import type { SubscribeAuthorizationInput, SubscribePolicy } from '../subscriptions/subscribe-policy.js';
import type { CredentialDirectory, DigestAccount, DigestDevice } from './credential-directory.js';
import { challengeHeaders } from './digest/challenge.js';
import { chooseCredentials, type DigestCredentials } from './digest/credentials.js';
import { FailureLockout } from './digest/failure-lockout.js';
import { NcTracker } from './digest/nc-tracker.js';
import type { NonceService } from './digest/nonce.js';
import { verifyDigest, type DigestOutcome } from './digest/verifier.js';
import { NO_TRUSTED_PEERS, type TrustedPeerLookup } from './trusted-peers.js';

export interface SipAuthPolicyOptions {
  directory: CredentialDirectory;
  nonces: NonceService;
  clock: Clock;
  logger?: Logger;
  /** Trusted peers (security.md §3.3); default none. */
  trustedPeers?: TrustedPeerLookup;
  /** Replay tracking; default a fresh one. */
  nc?: NcTracker;
  /** Brute-force lockout; default 5 failures per (IP, user) in 300 s. */
  lockout?: FailureLockout;
}

/** The three hooks of the stack's policy port that digest authentication and authorization fill in. */
export type SipAuthPolicy = Required<Pick<SubscribePolicy & PublishPolicy, 'authenticate' | 'authorizeSubscribe' | 'authorizePublish'>>;

const FORBIDDEN: AuthorizationResult = { ok: false, response: { status: 403 } };
const ALLOWED: AuthorizationResult = { ok: true };

/**
 * Digest authentication (RFC 3261 §22, RFC 7616, RFC 8760) and the authorization table of security.md §3.2, as the
 * stack's `authenticate`, `authorizeSubscribe` and `authorizePublish` hooks. The realm is always the one of the account
 * serving the addressed domain (an unclaimed domain lands in the default account, so it is that account's realm).
 * Every 401 carries a fresh challenge; an unknown user and a wrong password get the same answer; a source matching a
 * trusted peer of that account skips the challenge.
 */
export function createSipAuthPolicy(opts: SipAuthPolicyOptions): SipAuthPolicy {
  const { directory, nonces, clock } = opts;
  const logger = opts.logger ?? silentLogger;
  const peers = opts.trustedPeers ?? NO_TRUSTED_PEERS;
  const nc = opts.nc ?? new NcTracker();
  const lockout = opts.lockout ?? new FailureLockout();

  function challenge(realm: string, algorithms: readonly DigestAlgorithm[], ip: string, stale: boolean): AuthenticationResult {
    const nonce = nonces.issue(realm, ip, clock.now());
    return { ok: false, response: { status: 401, headers: challengeHeaders(realm, algorithms, nonce, stale) } };
  }

  function locked(retryAfter: number): AuthenticationResult {
    return { ok: false, response: { status: 403, headers: [['Retry-After', String(retryAfter)]] } };
  }

  const refuse = (response: PolicyResponse): AuthenticationResult => ({ ok: false, response });

  /** The HA1 for these credentials, if the user exists in the account with secrets for its current realm. */
  function ha1Of(account: DigestAccount, creds: DigestCredentials): { device: DigestDevice; ha1: string } | undefined {
    let name = creds.username;
    let useB = false;
    // `user@realm` as the username (ha1b, security.md §2.4): MD5 only, and only the account's own realm.
    const at = name.lastIndexOf('@');
    if (at !== -1) {
      if (creds.algorithm !== 'MD5' || name.slice(at + 1).toLowerCase() !== account.realm.toLowerCase()) return undefined;
      name = name.slice(0, at);
      useB = true;
    }
    const device = directory.device(account.id, name);
    const d = device?.digest;
    if (!device || !d || d.realm !== account.realm) return undefined;
    if (useB ? `${device.username}@${account.realm}` !== creds.username : device.username !== name) return undefined;
    const ha1 = useB ? d.ha1bMd5 : creds.algorithm === 'MD5' ? d.ha1Md5 : creds.algorithm === 'SHA-256' ? d.ha1Sha256 : d.ha1Sha512_256;
    return { device, ha1 };
  }

  function identityOf(device: DigestDevice, account: DigestAccount): RequestIdentity {
    return { kind: 'device', id: device.id, accountId: account.id, user: device.username, realm: account.realm };
  }

  /** Checks the credentials against `account`; for a foreign realm, against the account that realm belongs to. */
  function check(
    creds: DigestCredentials,
    account: DigestAccount,
    method: string,
    ip: string,
  ): { outcome: DigestOutcome; identity?: RequestIdentity } {
    const found = ha1Of(account, creds);
    const outcome = verifyDigest(creds, found?.ha1, { method, sourceIp: ip, nowMs: clock.now(), nonces, nc });
    return outcome === 'ok' && found ? { outcome, identity: identityOf(found.device, account) } : { outcome };
  }

  function authenticate(input: AuthenticationInput): AuthenticationResult {
    const ip = input.flow.remoteAddress;
    const account: DigestAccount | undefined =
      input.accountId === null ? undefined : directory.account(input.accountId);
    const realm = account?.realm ?? input.domain;
    const algorithms = account?.algorithms ?? (['MD5'] as const);

    // Trusted peers: by address (and certificate), for their own account's domains only.
    const matched = peers({ address: ip, transport: input.flow.protocol });
    if (matched.length > 0) {
      const mine = matched.find((p) => p.accountId === input.accountId);
      if (mine) return { ok: true, identity: { kind: 'peer', id: mine.id, accountId: mine.accountId } };
      logger.debug({ ip, domain: input.domain }, 'trusted peer of another account refused');
      return refuse({ status: 403 });
    }

    let lines: Authorization[];
    try {
      lines = input.request.authorizations;
    } catch (err) {
      if (err instanceof ParseError) return refuse({ status: 400, reason: 'Bad Request' });
      throw err;
    }
    const choice = chooseCredentials(lines, realm, algorithms);
    if (choice.kind === 'malformed') return refuse({ status: 400, reason: 'Bad Request' });

    const dialog = input.inDialog ? input.dialog : undefined;
    const onOwnFlow = dialog !== undefined && sameFlow(input.flow, dialog.flow);
    // In-dialog on the dialog's own flow: not challenged (security.md §2.6); credentials that come anyway must verify.
    if (onOwnFlow && choice.kind === 'none') return { ok: true, ...(dialog.identity ? { identity: dialog.identity } : {}) };
    if (choice.kind === 'none' || account === undefined) return challenge(realm, algorithms, ip, false);

    const creds = choice.credentials;
    const wait = lockout.retryAfter(ip, creds.username, clock.now());
    if (wait > 0) return locked(wait);

    if (!choice.matchesRealm) {
      // Credentials for another realm (security.md §3.1.2): right for a device of that realm's account, they still
      // do not count here (403); otherwise they are as good as an unknown user.
      const other = directory.accountByRealm(creds.realm);
      if (other && other.id !== account.id) {
        const res = check(creds, other, input.request.method, ip);
        if (res.outcome === 'ok' || res.outcome === 'stale' || res.outcome === 'replay') {
          logger.debug({ ip, realm: creds.realm, domain: input.domain }, 'credentials of another account refused');
          return refuse({ status: 403 });
        }
      }
      return failed(creds, ip, realm, algorithms, onOwnFlow);
    }

    const res = check(creds, account, input.request.method, ip);
    switch (res.outcome) {
      case 'ok': {
        const identity = res.identity!;
        // A dialog stays with the device that made it.
        if (dialog?.identity && !sameIdentity(dialog.identity, identity)) return refuse({ status: 403 });
        return { ok: true, identity };
      }
      case 'stale':
      case 'replay':
        // Right digest, old or reused nonce: on the dialog's own flow it still proves the device (§2.6).
        if (onOwnFlow) return { ok: true, ...(dialog.identity ? { identity: dialog.identity } : {}) };
        return challenge(realm, algorithms, ip, res.outcome === 'stale');
      case 'bad-nonce':
        return onOwnFlow ? refuse({ status: 403 }) : challenge(realm, algorithms, ip, false);
      case 'wrong':
        return failed(creds, ip, realm, algorithms, onOwnFlow);
    }
  }

  /** A wrong digest or an unknown user: counted; the 5th in the window is 403 + Retry-After. */
  function failed(creds: DigestCredentials, ip: string, realm: string, algorithms: readonly DigestAlgorithm[], onOwnFlow: boolean): AuthenticationResult {
    const wait = lockout.fail(ip, creds.username, clock.now());
    logger.debug({ ip, username: creds.username, realm }, 'digest authentication failed');
    if (wait > 0) return locked(wait);
    return onOwnFlow ? refuse({ status: 403 }) : challenge(realm, algorithms, ip, false);
  }

  function authorizeSubscribe(input: SubscribeAuthorizationInput): AuthorizationResult {
    const id = input.identity;
    // In a dialog the policy already let through (restored after a restart, its creator unknown): as it was.
    if (!id) return input.inDialog ? ALLOWED : FORBIDDEN;
    if (id.accountId !== input.accountId) return FORBIDDEN;
    if (id.kind === 'peer') return ALLOWED;
    if (input.event === 'message-summary') {
      const device = id.user === undefined ? undefined : directory.device(id.accountId ?? '', id.user);
      if (!device || !device.mailboxes.includes(input.resource.toLowerCase())) return FORBIDDEN;
    }
    return ALLOWED;
  }

  function authorizePublish(input: PublishAuthorizationInput): AuthorizationResult {
    const id = input.identity;
    if (!id || id.accountId !== input.accountId) return FORBIDDEN;
    if (id.kind === 'peer') return ALLOWED;
    // A device publishes only its own presence: From = To = Request-URI user = its presence id (security.md §3.2).
    if (input.event !== 'presence' || id.user === undefined) return FORBIDDEN;
    const device = directory.device(id.accountId ?? '', id.user);
    if (!device) return FORBIDDEN;
    const req = input.request;
    const at = input.resource.lastIndexOf('@');
    const resourceUser = (at === -1 ? input.resource : input.resource.slice(0, at)).toLowerCase();
    const users = [resourceUser, req.requestUri.user, req.from.uri.user, req.to.uri.user].map((u) => (u ?? '').toLowerCase());
    return users.every((u) => device.presenceIds.includes(u)) ? ALLOWED : FORBIDDEN;
  }

  return { authenticate, authorizeSubscribe, authorizePublish };
}

/** The dialog's flow (security.md §2.6): the same connection for a stream, the same source IP for UDP. */
function sameFlow(
  flow: AuthenticationInput['flow'],
  dialogFlow: { readonly protocol: string; readonly remoteAddress: string; readonly connectionId: number | null },
): boolean {
  if (flow.protocol !== dialogFlow.protocol || flow.remoteAddress !== dialogFlow.remoteAddress) return false;
  return flow.protocol === 'udp' || (flow.connectionId !== undefined && flow.connectionId === dialogFlow.connectionId);
}

function sameIdentity(a: RequestIdentity, b: RequestIdentity): boolean {
  return a.kind === b.kind && a.id === b.id && a.accountId === b.accountId;
}
