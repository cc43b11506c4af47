import { servesDomain } from '../accounts/account-resolver.js';
import type { AccountServices } from '../accounts/account-services.js';
import { ValidationError } from '../accounts/account-errors.js';
import { SIP_USER_PATTERN } from '../accounts/schemas.js';
import { brighter, lampOfDialogs, type LampWord } from '../history/lamp-word.js';
import { HISTORY_KINDS, type HistoryEntry } from '../history/presence-history.js';
import type { Clock } from '../lib/clock.js';
import { resourceKey } from '../presentity/resource-key.js';
import type { AccountRecord, SubscriptionRecord } from '../store/records.js';
import type { ClusterSubscriptionList, PresenceControl, SubscriptionView } from './api-deps.js';
import type { OperatorDeps } from './operator-deps.js';
import type { StreamedData } from './streamed-envelope.js';

export const HISTORY_MAX_PAGE = 1000;
const HISTORY_DEFAULT_PAGE = 50;
const RECENT = 10;

export interface PresenceOperatorOptions {
  services: AccountServices;
  presentity: PresenceControl;
  notifier: SubscriptionView;
  operator: OperatorDeps;
  clock: Clock;
  /** Cluster mode: `explain` shows the watchers other nodes hold too (from the directory), as `GET …/presence` does. */
  clusterList?: ClusterSubscriptionList;
}

const invalid = (field: string, message: string): ValidationError => ValidationError.one(field, 'invalid', message, 'invalid');

/**
 * History and explanation of an extension (docs/operator-api.md), over every domain the account serves where the
 * extension has state or watchers, as the presence commands act on them (presence-admin.ts).
 */
export class PresenceOperator {
  constructor(private readonly opts: PresenceOperatorOptions) {}

  /** `GET …/presence/{EXTENSION}/history`: newest first, paged with page_size / start_key. */
  history(account: AccountRecord, extension: string, query: Record<string, unknown>): StreamedData {
    const keys = this.keysOf(account, extension);
    const pageSize = intParam(query, 'page_size', 1, HISTORY_MAX_PAGE) ?? HISTORY_DEFAULT_PAGE;
    const startKey = intParam(query, 'start_key', 1, Number.MAX_SAFE_INTEGER);
    const since = intParam(query, 'since', 0, Number.MAX_SAFE_INTEGER);
    const kind = query.kind;
    if (kind !== undefined && (typeof kind !== 'string' || !(HISTORY_KINDS as readonly string[]).includes(kind))) {
      throw ValidationError.one('kind', 'enum', `Value must be one of ${HISTORY_KINDS.join(', ')}`, HISTORY_KINDS.join('|'));
    }
    const page = this.opts.operator.history.query(keys, {
      limit: pageSize,
      ...(startKey === undefined ? {} : { beforeSeq: startKey }),
      ...(since === undefined ? {} : { since }),
      ...(kind === undefined ? {} : { kind }),
    });
    const fields: Record<string, unknown> = { page_size: page.entries.length };
    if (page.next !== undefined) fields.next_start_key = String(page.next);
    if (typeof query.start_key === 'string') fields.start_key = query.start_key;
    const text = Buffer.from(JSON.stringify(page.entries));
    return {
      text: (async function* () {
        yield text;
      })(),
      fields: () => fields,
    };
  }

  /**
   * `GET …/presence/{EXTENSION}/explain`: the chain support walks for "why is this lamp red?". Cluster mode: every
   * watcher names its node (`stalker`), other nodes' watchers come from the directory (their source address and NOTIFY
   * trace stay on their node: `source` is empty, `last_notify.at` null), and `partial` says the directory did not
   * answer (`timeout: true`).
   */
  async explain(account: AccountRecord, extension: string): Promise<{ view: Record<string, unknown>; partial: boolean }> {
    const { presentity, notifier, operator, clock, clusterList } = this.opts;
    let partial = false;
    const user = checkedExtension(extension);
    const remoteDomains = clusterList?.watchedDomains ? await clusterList.watchedDomains(user, [account.realm.toLowerCase()]) : [];
    const keys = this.keysOf(account, extension, remoteDomains);
    const remote = new Map<string, readonly Readonly<SubscriptionRecord>[]>();
    if (clusterList?.remoteWatchersOf) {
      for (const key of keys) {
        const found = await clusterList.remoteWatchersOf(key);
        partial ||= found.partial;
        remote.set(key, found.records);
      }
    }
    const now = clock.now();
    let state: LampWord = 'terminated';
    let manual: Record<string, unknown> | null = null;
    const publications: Record<string, unknown>[] = [];
    const watchers: Record<string, unknown>[] = [];
    for (const key of keys) {
      const dialog = operator.state(key, 'dialog') as unknown as { dialogs?: { state: string }[] } | undefined;
      state = brighter(state, lampOfDialogs(dialog?.dialogs));
      const desc = presentity.describe(key);
      if (desc.manualState !== null && (manual === null || desc.manualState !== 'terminated')) {
        const trace = operator.history.manual(key);
        manual = { state: desc.manualState, resource: key, at: trace?.at ?? null, by: trace ? actorView(trace.by) : null };
      }
      for (const p of desc.publications) {
        const trace = operator.history.publisher(key, p.event, p.etag);
        publications.push({
          resource: key,
          event: p.event,
          etag: p.etag,
          ...(trace?.state === undefined ? {} : { state: trace.state }),
          expires_in: Math.max(0, Math.ceil((p.expiresAt - now) / 1000)),
          updated_at: p.updatedAt,
          publisher: trace
            ? {
                source: trace.publisher.source,
                transport: trace.publisher.transport,
                from: trace.publisher.from,
                user_agent: trace.publisher.userAgent,
                call_id: trace.publisher.callId,
              }
            : null,
        });
      }
      for (const rec of notifier.watchersOf(key)) watchers.push(this.watcherView(key, rec, now));
      for (const rec of remote.get(key) ?? []) watchers.push(this.watcherView(key, rec, now));
    }
    const cause = manual !== null ? 'manual' : publications.some((p) => p.state !== undefined && p.state !== 'terminated') || state !== 'terminated' ? 'publication' : 'none';
    const view = {
      extension: extension.toLowerCase(),
      state,
      cause,
      manual,
      publications,
      watchers,
      recent: operator.history.query(keys, { limit: RECENT }).entries,
    };
    return { view, partial };
  }

  private watcherView(key: string, rec: Readonly<SubscriptionRecord>, now: number): Record<string, unknown> {
    const last = rec.lastNotify;
    const trace = this.opts.operator.history.lastNotify(rec.id);
    const traced = trace !== undefined && last !== null && trace.cseq === last.cseq ? trace : undefined;
    const reply = last?.reply ?? 0;
    const answer = traced?.answer ?? (reply === 0 ? null : reply < 300 ? { status: reply } : { failure: reply });
    return {
      resource: key,
      event: rec.event,
      watcher: `${rec.watcherUser}@${rec.watcherDomain}`,
      call_id: rec.callId,
      contact: rec.contact,
      transport: rec.flow.protocol,
      source: sourceOf(rec),
      expires_in: Math.max(0, Math.ceil((rec.expiresAt - now) / 1000)),
      version: rec.version,
      last_notify:
        last === null
          ? null
          : { cseq: last.cseq, at: traced?.at ?? null, final: traced?.final ?? null, answer, rtt_ms: traced?.rttMs ?? null },
      ...(this.opts.clusterList ? { stalker: rec.node } : {}),
    };
  }

  /**
   * `user@domain` for the realm and every other served domain where the extension is watched (here, or in cluster mode
   * on another node: `remote`) or has state.
   */
  private keysOf(account: AccountRecord, extension: string, remote: readonly string[] = []): string[] {
    const user = checkedExtension(extension);
    const served = (d: string): boolean => servesDomain(this.opts.services.resolver, account.id, d);
    const domains = new Set([account.realm.toLowerCase()]);
    for (const d of this.opts.notifier.watchedDomains(user)) if (served(d)) domains.add(d);
    for (const d of remote) if (served(d)) domains.add(d);
    for (const d of this.opts.presentity.domainsOf(user)) if (served(d)) domains.add(d);
    return [...domains].map((d) => resourceKey(user, d));
  }
}

/** The extension's user part, lower-cased; 400 when it could never name a resource. */
function checkedExtension(extension: string): string {
  if (!SIP_USER_PATTERN.test(extension)) {
    throw ValidationError.one('extension', 'pattern', 'Value must be a SIP user part (1-64 characters)', 'pattern');
  }
  return extension.toLowerCase();
}

/** Where the watcher's requests come from; empty for another node's watcher (its flow stays there). */
function sourceOf(rec: Readonly<SubscriptionRecord>): string {
  const { remoteAddress, remotePort } = rec.flow;
  if (remoteAddress === '') return '';
  return remoteAddress.includes(':') ? `[${remoteAddress}]:${remotePort}` : `${remoteAddress}:${remotePort}`;
}

function actorView(by: { accountId: string; userId: string | null; method: string; requestId: string } | null): Record<string, unknown> | null {
  return by === null ? null : { account_id: by.accountId, user_id: by.userId, method: by.method, request_id: by.requestId };
}

/** An optional integer query parameter within bounds; 400 otherwise. */
function intParam(query: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const v = query[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !/^\d{1,16}$/.test(v)) throw invalid(name, `Value must be an integer from ${min} to ${max}`);
  const n = Number(v);
  if (n < min || n > max) throw invalid(name, `Value must be an integer from ${min} to ${max}`);
  return n;
}

export type { HistoryEntry };
