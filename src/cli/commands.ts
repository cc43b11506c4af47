import { SystemClock } from '../lib/clock.js';
import type { ApiClient, Envelope } from './api-client.js';
import { CliError, EXIT } from './cli-error.js';
import { table, type Output } from './output.js';
import { readSse } from './sse-reader.js';

export interface CommandContext {
  client: ApiClient;
  out: Output;
  json: boolean;
  /** The account named by --account / PISTON_ACCOUNT, else undefined (then the token's own). */
  account: string | undefined;
  options: Record<string, string | boolean | undefined>;
  args: string[];
}

const STATES = ['early', 'confirmed', 'terminated'];

const usage = (text: string): CliError => new CliError(EXIT.usage, text);
const enc = encodeURIComponent;

/** The account to act on: the one named, else the token's own (the first `GET /v2/accounts` lists). */
async function accountOf(ctx: CommandContext): Promise<string> {
  if (ctx.account) return ctx.account;
  const env = await ctx.client.call('GET', '/v2/accounts');
  const first = (env.data as { id: string }[])[0];
  if (!first) throw new CliError(EXIT.error, 'the token sees no account');
  return first.id;
}

function extensionArg(ctx: CommandContext, command: string): string {
  const ext = ctx.args[0];
  if (ext === undefined || ext === '') throw usage(`${command} needs an extension: piston ${command} <ext>`);
  return ext;
}

export async function login(ctx: CommandContext): Promise<void> {
  const key = (ctx.options['api-key'] as string | undefined) ?? process.env.PISTON_API_KEY;
  if (!key) throw usage('login needs an API key: piston login --api-key KEY (or PISTON_API_KEY)');
  const env = await ctx.client.call('PUT', '/v2/api_auth', { data: { api_key: key } }, false);
  const token = env.auth_token ?? '';
  const account = (env.data as { account_id?: string }).account_id ?? '';
  if (ctx.json) ctx.out.json({ auth_token: token, account_id: account });
  else if (ctx.options.export) {
    ctx.out.data(`export PISTON_TOKEN=${token}`);
    ctx.out.data(`export PISTON_ACCOUNT=${account}`);
  } else {
    ctx.out.data(token);
    ctx.out.message(`account ${account}; the token lapses after an hour without use`);
  }
}

export async function list(ctx: CommandContext): Promise<void> {
  const account = await accountOf(ctx);
  const event = ctx.options.event as string | undefined;
  const env = await ctx.client.call('GET', `/v2/accounts/${enc(account)}/presence${event ? `?event=${enc(event)}` : ''}`);
  const subs = (env.data as { subscriptions: Record<string, Record<string, Record<string, Record<string, any>>>> }).subscriptions;
  const only = ctx.options.resource as string | undefined;
  if (ctx.json) {
    ctx.out.json(only === undefined ? env.data : { subscriptions: only in subs ? { [only]: subs[only] } : {} });
    return;
  }
  const rows: string[][] = [['RESOURCE', 'EVENT', 'WATCHER', 'EXPIRES', 'CSEQ', 'REPLY']];
  for (const [resource, events] of Object.entries(subs)) {
    if (only !== undefined && resource !== only) continue;
    for (const [ev, calls] of Object.entries(events)) {
      for (const sub of Object.values(calls)) {
        const reply = Number(sub.notify?.reply ?? 0);
        rows.push([resource, ev, String(sub.from), `${sub.expires}s`, String(sub.notify?.sequence ?? 0), reply === 0 ? '-' : ctx.out.paint(String(reply), reply < 300 ? 'green' : 'red')]);
      }
    }
  }
  if (rows.length === 1) ctx.out.message('no subscriptions');
  else for (const line of table(rows)) ctx.out.data(line);
}

/** A history entry as one line: time, kind and what happened. */
export function historyLine(e: Record<string, any>, out: Output): string {
  const time = new Date(e.at as number).toISOString().replace('T', ' ').replace('Z', '');
  const what = ((): string => {
    switch (e.kind) {
      case 'publish':
        return `PUBLISH ${e.action} ${e.event}${e.state ? ` ${out.lamp(e.state)}` : ''} etag ${e.etag} expires ${e.expires}s from ${e.publisher?.source} ${e.publisher?.transport}${e.publisher?.user_agent ? ` "${e.publisher.user_agent}"` : ''}`;
      case 'publish-expired':
        return `publication ${e.event} ${e.etag} expired`;
      case 'manual':
        return `manual ${e.action}${e.state ? ` ${out.lamp(e.state)}` : ''} by ${e.by ? `${e.by.user_id ?? e.by.method} (account ${e.by.account_id}, request ${e.by.request_id})` : 'unknown'}`;
      case 'state':
        return `${e.event} ${e.from} -> ${e.to}${e.force ? ' (reset)' : ''}`;
      case 'subscribe':
        return `SUBSCRIBE ${e.action} ${e.event} from ${e.watcher} ${e.transport} ${e.source} expires ${e.expires}s`;
      case 'unsubscribe':
        return `subscription ${e.event} of ${e.watcher} removed: ${e.reason}`;
      case 'notify':
        return `NOTIFY ${e.event} to ${e.watcher} cseq ${e.cseq} version ${e.version}${e.final ? ' (final)' : ''}`;
      case 'notify-result':
        return `NOTIFY cseq ${e.cseq} to ${e.watcher}: ${e.status !== undefined ? out.paint(String(e.status), e.status < 300 ? 'green' : 'red') : out.paint(String(e.failure), 'red')}${e.rtt_ms !== null && e.rtt_ms !== undefined ? ` (${e.rtt_ms} ms)` : ''}`;
      default:
        return JSON.stringify(e);
    }
  })();
  return `${out.paint(time, 'gray')}  ${e.resource}  ${what}`;
}

/** `--since 1h` / `30m` / `45s` / `2d`, or ms since the epoch. */
function sinceMs(text: string, now: number): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) return now - Number(m[1]) * { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd'];
  if (/^\d+$/.test(text)) return Number(text);
  throw usage(`--since takes 30s, 15m, 1h, 2d or ms since the epoch, not ${text}`);
}

export async function history(ctx: CommandContext): Promise<void> {
  const ext = extensionArg(ctx, 'history');
  const account = await accountOf(ctx);
  const q = new URLSearchParams();
  const limit = ctx.options.limit as string | undefined;
  if (limit !== undefined) {
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > 1000) throw usage('--limit takes 1 to 1000');
    q.set('page_size', limit);
  }
  if (ctx.options.since !== undefined) q.set('since', String(sinceMs(ctx.options.since as string, Date.now())));
  if (ctx.options.kind !== undefined) q.set('kind', ctx.options.kind as string);
  const qs = q.toString();
  const env = await ctx.client.call('GET', `/v2/accounts/${enc(account)}/presence/${enc(ext)}/history${qs ? `?${qs}` : ''}`);
  const entries = env.data as Record<string, unknown>[];
  if (ctx.json) {
    ctx.out.json(entries);
    return;
  }
  if (entries.length === 0) ctx.out.message(`no history for ${ext}`);
  for (const e of entries) ctx.out.data(historyLine(e, ctx.out));
  if (env.next_start_key !== undefined) ctx.out.message('(older entries remain: --limit for more)');
}

export async function show(ctx: CommandContext): Promise<void> {
  const ext = extensionArg(ctx, 'show');
  const account = await accountOf(ctx);
  const env = await ctx.client.call('GET', `/v2/accounts/${enc(account)}/presence/${enc(ext)}/explain`);
  const x = env.data as Record<string, any>;
  if (ctx.json) {
    ctx.out.json(x);
    return;
  }
  const o = ctx.out;
  o.data(`${o.paint(x.extension, 'bold')}  ${o.lamp(x.state)}  (cause: ${x.cause})`);
  o.data(
    x.manual
      ? `manual: ${o.lamp(x.manual.state)} on ${x.manual.resource}${x.manual.by ? ` by ${x.manual.by.user_id ?? x.manual.by.method} (account ${x.manual.by.account_id})` : ''}${x.manual.at ? ` at ${new Date(x.manual.at).toISOString()}` : ''}`
      : 'manual: none',
  );
  o.data(`publications: ${x.publications.length === 0 ? 'none' : ''}`);
  for (const p of x.publications) {
    const who = p.publisher ? `from ${p.publisher.source} ${p.publisher.transport}${p.publisher.user_agent ? ` "${p.publisher.user_agent}"` : ''}` : 'publisher unknown (before restart)';
    o.data(`  ${p.resource} ${p.event}${p.state ? ` ${o.lamp(p.state)}` : ''} etag ${p.etag} expires in ${p.expires_in}s ${who}`);
  }
  o.data(`watchers: ${x.watchers.length === 0 ? 'none' : x.watchers.length}`);
  const rows: string[][] = [];
  for (const w of x.watchers) {
    const n = w.last_notify;
    const answer = n === null ? 'no NOTIFY yet' : n.answer === null ? `cseq ${n.cseq} in flight` : 'status' in n.answer ? `cseq ${n.cseq} -> ${o.paint(String(n.answer.status), n.answer.status < 300 ? 'green' : 'red')}` : `cseq ${n.cseq} -> ${o.paint(String(n.answer.failure), 'red')}`;
    rows.push(['  ' + w.watcher, w.event, w.transport, w.source, `expires in ${w.expires_in}s`, `version ${w.version}`, answer + (n?.rtt_ms != null ? ` (${n.rtt_ms} ms)` : '')]);
  }
  for (const line of table(rows)) o.data(line);
  if (x.recent.length > 0) {
    o.data('recent:');
    for (const e of x.recent) o.data(`  ${historyLine(e, o)}`);
  }
}

/** `reset <ext>`, `reset --device ID`, `reset --user ID`; `set … <state>` likewise. */
async function command(ctx: CommandContext, action: 'reset' | 'set'): Promise<void> {
  const device = ctx.options.device as string | undefined;
  const user = ctx.options.user as string | undefined;
  if (device !== undefined && user !== undefined) throw usage('give --device or --user, not both');
  const args = [...ctx.args];
  let state: string | undefined;
  if (action === 'set') {
    state = args.pop();
    if (state === undefined || !STATES.includes(state)) throw usage(`set needs a state: piston set <ext>|--device ID|--user ID ${STATES.join('|')}`);
  }
  const target = device !== undefined ? 'device' : user !== undefined ? 'user' : 'extension';
  if (target === 'extension' && args.length !== 1) throw usage(`${action} needs one extension, or --device ID or --user ID`);
  if (target !== 'extension' && args.length !== 0) throw usage(`${action} takes an extension or --${target}, not both`);
  const account = await accountOf(ctx);
  const path =
    target === 'device'
      ? `/v2/accounts/${enc(account)}/devices/${enc(device!)}/presence`
      : target === 'user'
        ? `/v2/accounts/${enc(account)}/users/${enc(user!)}/presence`
        : `/v2/accounts/${enc(account)}/presence/${enc(args[0]!)}`;
  const env = await ctx.client.call('POST', path, { data: action === 'set' ? { action, state } : { action } });
  if (ctx.json) ctx.out.json(env.data);
  else ctx.out.message(String(env.data));
}

export const reset = (ctx: CommandContext): Promise<void> => command(ctx, 'reset');
export const set = (ctx: CommandContext): Promise<void> => command(ctx, 'set');

/**
 * `watch [ext…]`: the live stream; reconnects (to a fresh snapshot) when it drops, until interrupted or `--count`
 * lamp events were shown. `--json`: one line per event, `{"event","id","data"}` with the API's data verbatim.
 */
export async function watch(ctx: CommandContext): Promise<void> {
  const account = await accountOf(ctx);
  const only = new Set(ctx.args.map((a) => a.toLowerCase()));
  const countText = ctx.options.count as string | undefined;
  if (countText !== undefined && !/^\d+$/.test(countText)) throw usage('--count takes a number');
  let left = countText === undefined ? Number.POSITIVE_INFINITY : Number(countText);
  const event = ctx.options.event as string | undefined;
  const path = `/v2/accounts/${enc(account)}/presence/stream${event ? `?event=${enc(event)}` : ''}`;
  const clock = new SystemClock();
  let first = true;
  for (;;) {
    let res: Response;
    try {
      res = await ctx.client.open(path, { Accept: 'text/event-stream' });
    } catch (err) {
      // Unreachable at the start is an answer (exit 5); later the server may be restarting: try again.
      if (first || !(err instanceof CliError) || err.code !== EXIT.unreachable) throw err;
      await new Promise<void>((r) => clock.setTimer(1000, r));
      continue;
    }
    if (!first) ctx.out.message('reconnected');
    first = false;
    for await (const ev of readSse(res.body!)) {
      const data = JSON.parse(ev.data) as { at?: number; extensions?: Record<string, any>[]; reason?: string };
      if (ev.event === 'end') {
        if (data.reason === 'unauthorized') throw new CliError(EXIT.auth, 'the stream ended: the token is no longer valid');
        ctx.out.message(`the stream ended: ${data.reason}`);
        break;
      }
      const exts = (data.extensions ?? []).filter((x) => only.size === 0 || only.has(String(x.extension)));
      if (ctx.json) ctx.out.json({ event: ev.event, id: ev.id === undefined ? null : Number(ev.id), data: { ...data, ...(data.extensions ? { extensions: exts } : {}) } });
      else {
        if (ev.event === 'snapshot') ctx.out.message(`snapshot: ${exts.length} extensions`);
        const rows = exts.map((x) => [
          new Date(data.at ?? Date.now()).toISOString().slice(11, 23),
          String(x.extension),
          ctx.out.lamp(String(x.state)),
          `${x.watchers} watching`,
          x.manual ? `manual ${x.manual}` : '',
          x.failing > 0 ? ctx.out.paint(`${x.failing} failing`, 'yellow') : '',
        ]);
        for (const line of table(rows)) ctx.out.data(line);
      }
      if (ev.event === 'lamp' && exts.length > 0 && --left <= 0) return;
    }
    await new Promise<void>((r) => clock.setTimer(1000, r));
  }
}

export type { Envelope };
