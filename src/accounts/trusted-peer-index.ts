import { parseCidr, parseIp, v4Mask, v6Key, v6Mask } from '../lib/cidr.js';
import type { PeerMatch, PeerSource, TrustedPeerLookup } from '../lib/trusted-peer-lookup.js';
import type { TrustedPeerRecord } from '../store/records.js';

interface Entry extends PeerMatch {
  transport: string | null;
  /** Upper-case hex without colons. */
  fingerprint: string | null;
}

/**
 * Entries of one address family, grouped by prefix length and then by network (the masked address: a number for
 * IPv4, the four masked words as a string for IPv6).
 */
interface FamilyIndex<M, K> {
  /** Distinct prefix lengths present, longest first, each with its mask and its networks. */
  prefixes: { prefix: number; mask: M; nets: Map<K, Entry[]> }[];
}

/** Sources remembered with the entries their address falls in; cleared when full (a spoofing flood) and on refresh. */
const CACHE_LIMIT = 4096;

const NONE: readonly PeerMatch[] = Object.freeze([]);

/** `AB:CD:…`, `abcd…`: compared as upper-case hex without separators. */
export function normalizeFingerprint(fp: string): string {
  return fp.replace(/:/g, '').toUpperCase();
}

function emptyFamily<M, K>(): FamilyIndex<M, K> {
  return { prefixes: [] };
}

function add<M, K>(family: FamilyIndex<M, K>, prefix: number, mask: M, network: K, entry: Entry): void {
  let level = family.prefixes.find((p) => p.prefix === prefix);
  if (!level) {
    level = { prefix, mask, nets: new Map() };
    family.prefixes.push(level);
    family.prefixes.sort((a, b) => b.prefix - a.prefix);
  }
  const list = level.nets.get(network);
  if (list) list.push(entry);
  else level.nets.set(network, [entry]);
}

/**
 * Every account's trusted peers in memory, rebuilt from the store by `refresh()` (the trusted-peer service calls it
 * after each change; main.ts after the first-start seeding). A lookup masks the source address once per distinct
 * prefix length in use (a handful in practice) and reads a Map, so its cost does not grow with the number of peers;
 * the blocks an address falls in are remembered per address (phones and PBXs come back from the same ones).
 */
export class TrustedPeerIndex {
  private v4: FamilyIndex<number, number> = emptyFamily();
  private v6: FamilyIndex<readonly number[], string> = emptyFamily();
  private count = 0;
  /** Address text → the entries whose block holds it (before the transport and fingerprint checks). */
  private readonly cache = new Map<string, readonly Entry[]>();

  /** `match` as the SIP side's TrustedPeerLookup (lib/trusted-peer-lookup.ts). */
  readonly lookup: TrustedPeerLookup = (source) => this.match(source);

  constructor(private readonly load: () => readonly TrustedPeerRecord[]) {
    this.refresh();
  }

  /** How many peers are indexed. */
  get size(): number {
    return this.count;
  }

  /** Re-reads every peer from the store. A record whose CIDR no longer parses (edited by hand) is left out. */
  refresh(): void {
    const v4 = emptyFamily<number, number>();
    const v6 = emptyFamily<readonly number[], string>();
    let count = 0;
    for (const rec of this.load()) {
      const cidr = parseCidr(rec.cidr);
      if (!cidr) continue;
      const entry: Entry = {
        id: rec.id,
        accountId: rec.accountId,
        transport: rec.transport,
        fingerprint: rec.fingerprint === null ? null : normalizeFingerprint(rec.fingerprint),
      };
      if (cidr.family === 4) add(v4, cidr.prefix, v4Mask(cidr.prefix), cidr.network, entry);
      else add(v6, cidr.prefix, v6Mask(cidr.prefix), v6Key(cidr.words, v6Mask(128)), entry);
      count++;
    }
    this.v4 = v4;
    this.v6 = v6;
    this.count = count;
    this.cache.clear();
  }

  /**
   * The peers `source` matches: its address inside the CIDR, its transport the peer's (when the peer names one), and
   * its certificate's fingerprint the peer's (when the peer names one; a source without a certificate then fails).
   * Most specific block first. An empty frozen array when none match (the common case for phones).
   */
  match(source: PeerSource): readonly PeerMatch[] {
    if (this.count === 0) return NONE;
    const candidates = this.candidates(source.address);
    if (candidates.length === 0) return NONE;
    let out: PeerMatch[] | undefined;
    const transport = source.transport.toLowerCase();
    let fingerprint: string | null | undefined;
    for (const e of candidates) {
      if (e.transport !== null && e.transport !== transport) continue;
      if (e.fingerprint !== null) {
        fingerprint ??= source.fingerprint === undefined ? null : normalizeFingerprint(source.fingerprint);
        if (e.fingerprint !== fingerprint) continue;
      }
      (out ??= []).push({ id: e.id, accountId: e.accountId });
    }
    return out ?? NONE;
  }

  /** The entries whose block holds `address`, most specific first; remembered per address text. */
  private candidates(address: string): readonly Entry[] {
    const known = this.cache.get(address);
    if (known) return known;
    const found: Entry[] = [];
    const ip = parseIp(address);
    if (ip?.family === 4) {
      for (const level of this.v4.prefixes) {
        const list = level.nets.get((ip.value & level.mask) >>> 0);
        if (list) found.push(...list);
      }
    } else if (ip?.family === 6) {
      for (const level of this.v6.prefixes) {
        const list = level.nets.get(v6Key(ip.words, level.mask));
        if (list) found.push(...list);
      }
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(address, found);
    return found;
  }
}
