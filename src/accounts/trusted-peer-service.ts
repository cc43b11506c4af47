import type { Clock } from '../lib/clock.js';
import { parseCidr } from '../lib/cidr.js';
import { newId32 } from '../lib/ids.js';
import type { AdminDataStore } from '../store/ports.js';
import type { TrustedPeerRecord } from '../store/records.js';
import { UnknownIdError, ValidationError } from './account-errors.js';
import { parseData } from './parse-data.js';
import { trustedPeerSchema, type TrustedPeerInput } from './schemas.js';
import { normalizeFingerprint, TrustedPeerIndex } from './trusted-peer-index.js';

export interface TrustedPeerServiceOptions {
  store: AdminDataStore;
  clock: Clock;
}

/** `AB:CD:…`: how the API shows a fingerprint and Node's `getPeerCertificate().fingerprint256` writes one. */
function displayFingerprint(fp: string): string {
  return normalizeFingerprint(fp).match(/../g)!.join(':');
}

/**
 * Trusted peers of an account (security.md §3.3), through the admin API. Every change is written to the store and
 * the in-memory index (`index`, what the SIP side asks per request) is rebuilt at once, so a peer added by the API
 * is trusted on the next request and a deleted one is not.
 */
export class TrustedPeerService {
  readonly index: TrustedPeerIndex;

  constructor(private readonly opts: TrustedPeerServiceOptions) {
    this.index = new TrustedPeerIndex(() => opts.store.trustedPeers.loadAll());
  }

  list(accountId: string): TrustedPeerRecord[] {
    return this.opts.store.trustedPeers
      .findByAccount(accountId)
      .sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  get(accountId: string, id: string): TrustedPeerRecord {
    const peer = this.opts.store.trustedPeers.get(id);
    if (!peer || peer.accountId !== accountId) throw new UnknownIdError(id);
    return peer;
  }

  create(accountId: string, data: unknown): TrustedPeerRecord {
    const fields = this.fields(parseData(trustedPeerSchema, data));
    this.assertNew(accountId, null, fields);
    const now = this.opts.clock.now();
    const peer: TrustedPeerRecord = { id: newId32(), accountId, ...fields, createdAt: now, updatedAt: now };
    this.opts.store.trustedPeers.put(peer);
    this.index.refresh();
    return peer;
  }

  /** POST semantics: the document is replaced by `data`. */
  update(accountId: string, id: string, data: unknown): TrustedPeerRecord {
    const old = this.get(accountId, id);
    const fields = this.fields(parseData(trustedPeerSchema, data));
    this.assertNew(accountId, id, fields);
    const peer: TrustedPeerRecord = { ...old, ...fields, updatedAt: this.opts.clock.now() };
    this.opts.store.trustedPeers.put(peer);
    this.index.refresh();
    return peer;
  }

  delete(accountId: string, id: string): TrustedPeerRecord {
    const peer = this.get(accountId, id);
    this.opts.store.trustedPeers.delete(id);
    this.index.refresh();
    return peer;
  }

  /** Removes an account's peers (the account is being deleted). */
  deleteAccount(accountId: string): void {
    if (this.opts.store.trustedPeers.deleteByAccount(accountId) > 0) this.index.refresh();
  }

  private fields(input: TrustedPeerInput): Pick<TrustedPeerRecord, 'cidr' | 'transport' | 'fingerprint' | 'name'> {
    return {
      cidr: parseCidr(input.cidr)!.text,
      transport: input.transport ?? null,
      fingerprint: input.fingerprint == null ? null : displayFingerprint(input.fingerprint),
      name: input.name ?? null,
    };
  }

  /** The same block, transport and fingerprint twice in one account is a mistake worth a 400, not a silent copy. */
  private assertNew(accountId: string, self: string | null, f: Pick<TrustedPeerRecord, 'cidr' | 'transport' | 'fingerprint'>): void {
    const dup = this.opts.store.trustedPeers
      .findByAccount(accountId)
      .some((p) => p.id !== self && p.cidr === f.cidr && p.transport === f.transport && p.fingerprint === f.fingerprint);
    if (dup) throw ValidationError.one('cidr', 'unique', 'This account already trusts this block with this transport and fingerprint', 'unique');
  }
}
