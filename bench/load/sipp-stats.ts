import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Reads SIPp's -trace_stat file (cumulative counters, last line) and -trace_counts file (per scenario message:
 * sent/received, retransmissions, timeouts, unexpected). Retransmission columns are split by direction: a
 * request we send that has a Retrans count was re-sent by sipp (no answer in time); a message we receive with a
 * Retrans count was re-sent by the server; a response we send with a Retrans count only echoes the latter.
 */

export interface SippStats {
  found: boolean;
  created: number;
  success: number;
  failed: number;
  retransStat: number;
  outOfCall: number;
  deadCall: number;
  autoAnswered: number;
  durationS: number;
  /** Requests sipp had to re-send. */
  retransSent: number;
  /** Messages the server re-sent (NOTIFYs, or responses to our retransmitted requests). */
  retransRecv: number;
  timeouts: number;
  unexpected: number;
  /** Non-zero -trace_counts cells: scenario index, message (method or status), column (Sent, Recv, Retrans, ...). */
  messages: { idx: number; name: string; kind: string; value: number }[];
}

function epoch(field: string | undefined): number {
  // "2026-11-28\t02:50:03.179421\t1795834203.179421": the last part is epoch seconds
  if (!field) return 0;
  const parts = field.split('\t');
  return Number(parts[parts.length - 1]) || 0;
}

function lastRow(file: string): Map<string, string> | null {
  if (!existsSync(file)) return null;
  const rows = readFileSync(file, 'latin1').split('\n').filter((r) => r.trim().length > 0);
  if (rows.length < 2) return null;
  const h = rows[0]!.split(';');
  const l = rows[rows.length - 1]!.split(';');
  return new Map(h.map((k, i) => [k, l[i] ?? '']));
}

export function readSippStats(dir: string): SippStats {
  const s: SippStats = {
    found: false, created: 0, success: 0, failed: 0, retransStat: 0, outOfCall: 0, deadCall: 0, autoAnswered: 0,
    durationS: 0, retransSent: 0, retransRecv: 0, timeouts: 0, unexpected: 0, messages: [],
  };
  const stat = lastRow(join(dir, 'stat.csv'));
  if (!stat) return s;
  s.found = true;
  const n = (k: string): number => Math.trunc(Number(stat.get(k) ?? 0) || 0);
  s.created = n('TotalCallCreated');
  s.success = n('SuccessfulCall(C)');
  s.failed = n('FailedCall(C)');
  s.retransStat = n('Retransmissions(C)');
  s.outOfCall = n('OutOfCallMsgs(C)');
  s.deadCall = n('DeadCallMsgs(C)');
  s.autoAnswered = n('AutoAnswered(C)');
  s.durationS = Math.round((epoch(stat.get('CurrentTime')) - epoch(stat.get('StartTime'))) * 1000) / 1000;
  const countsName = readdirSync(dir).find((f) => f.endsWith('_counts.csv'));
  const counts = countsName ? lastRow(join(dir, countsName)) : null;
  if (counts) {
    for (const [k, v] of counts) {
      const val = Number(v);
      if (!/^\d+_/.test(k) || !Number.isFinite(val) || val === 0) continue;
      const parts = /^(\d+)_(.+)_([A-Za-z]+)$/.exec(k);
      if (parts) s.messages.push({ idx: Number(parts[1]), name: parts[2]!, kind: parts[3]!, value: val });
      if (k.endsWith('_Retrans')) {
        const base = k.slice(0, -'_Retrans'.length);
        const what = base.slice(base.indexOf('_') + 1);
        if (counts.has(`${base}_Sent`)) {
          if (!/^\d+$/.test(what)) s.retransSent += val;
        } else {
          s.retransRecv += val;
        }
      } else if (k.endsWith('_Timeout')) {
        s.timeouts += val;
      } else if (k.endsWith('_Unexp')) {
        s.unexpected += val;
      }
    }
  }
  return s;
}

/** Everything that must be zero for a clean step, as one number per kind (for messages and verdicts). */
export function troubles(s: SippStats): Record<string, number> {
  const t: Record<string, number> = {};
  const add = (k: string, v: number): void => {
    if (v) t[k] = v;
  };
  add('failed', s.failed);
  add('retrans_sent', Math.max(s.retransSent, s.retransStat));
  add('retrans_recv', s.retransRecv);
  add('timeouts', s.timeouts);
  add('unexpected', s.unexpected);
  add('out_of_call', s.outOfCall);
  add('dead_call', s.deadCall);
  return t;
}

/**
 * Retransmissions seen on the recv of the last `n` NOTIFYs of a scenario (the fan-out NOTIFYs of watch-two.xml),
 * and everything else (the subscribe phase). Retrans counts of the 200s we send only echo those, so they are skipped.
 */
export function splitNotifyRetrans(s: SippStats, n: number): { lastNotifies: number; rest: number } {
  const notifyIdx = [...new Set(s.messages.filter((m) => m.name === 'NOTIFY' && m.kind === 'Recv').map((m) => m.idx))].sort((a, b) => a - b);
  const tail = new Set(notifyIdx.slice(-n));
  let lastNotifies = 0;
  let rest = 0;
  for (const m of s.messages) {
    if (m.kind !== 'Retrans') continue;
    const sent = s.messages.some((x) => x.idx === m.idx && x.kind === 'Sent');
    if (sent && /^\d+$/.test(m.name)) continue;
    if (tail.has(m.idx)) lastNotifies += m.value;
    else rest += m.value;
  }
  return { lastNotifies, rest };
}
