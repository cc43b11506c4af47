import { readFileSync } from 'node:fs';

/**
 * What each watcher of watch-two.xml saw of one confirmed -> terminated line change, from its `-trace_logs` lines
 * (`SUB <ext> <s> <us> n=<call>` once subscribed, `NOT <ext> st=<state> <s> <us> n=<call>` per NOTIFY after that;
 * SIPp writes a zero `<us>` as nothing, so the call is found by its `n=` tag, not by its position).
 *
 * A watcher should see two NOTIFYs. When the second change comes before the first one's NOTIFY has left the server
 * (a backlog longer than the gap between the two PUBLISHes), the server sends one NOTIFY with the newest state: RFC
 * 6665 §4.2.2 lets a notifier send one NOTIFY for changes that come faster than it notifies, so that is not a loss.
 * Such a watcher saw one NOTIFY, `terminated`, and its lamp is right. A watcher whose last NOTIFY is not `terminated`
 * (or that saw none) has a wrong lamp: that is a loss.
 */
export interface NotifyLedger {
  /** Watchers subscribed (a SUB line). */
  watchers: number;
  /** NOTIFYs the watchers logged. */
  received: number;
  /** Two NOTIFYs, the last `terminated` (both changes seen; `twiceTerminated` of them saw `terminated` twice). */
  both: number;
  /** Two NOTIFYs, both `terminated`: the first was sent late, after the second change, and the second repeats it. */
  twiceTerminated: number;
  /** One NOTIFY, `terminated`: the two changes coalesced into one NOTIFY, the lamp right. */
  coalesced: number;
  /** The last NOTIFY seen is not `terminated`: the line's end never reached this watcher. */
  stale: number;
  /** No NOTIFY after the subscription. */
  none: number;
}

interface Watcher {
  states: string[];
}

/** The ledger of one watcher log (the SIPp trace_logs file of watch-two.xml). */
export function notifyLedger(text: string): NotifyLedger {
  const byCall = new Map<string, Watcher>();
  const get = (call: string): Watcher => {
    let w = byCall.get(call);
    if (!w) byCall.set(call, (w = { states: [] }));
    return w;
  };
  let received = 0;
  let subscribed = 0;
  for (const line of text.split('\n')) {
    const p = line.trim().split(/\s+/);
    const call = p[p.length - 1]!;
    if (!call.startsWith('n=')) continue;
    if (p[0] === 'SUB') {
      get(call);
      subscribed++;
    } else if (p[0] === 'NOT' && p.length >= 4) {
      received++;
      get(call).states.push(p[2]!.toLowerCase() === 'st=confirmed' ? 'confirmed' : 'terminated');
    }
  }
  const ledger: NotifyLedger = { watchers: subscribed, received, both: 0, twiceTerminated: 0, coalesced: 0, stale: 0, none: 0 };
  for (const w of byCall.values()) {
    const n = w.states.length;
    const last = w.states[n - 1];
    if (n === 0) ledger.none++;
    else if (last !== 'terminated') ledger.stale++;
    else if (n === 1) ledger.coalesced++;
    else {
      ledger.both++;
      if (w.states[0] === 'terminated') ledger.twiceTerminated++;
    }
  }
  return ledger;
}

export function readNotifyLedger(file: string): NotifyLedger {
  return notifyLedger(readFileSync(file, 'latin1'));
}

/**
 * NOTIFYs missing at the watchers and not explained by coalescing: 2 per watcher, less what arrived, less one per
 * coalesced watcher (it needed one NOTIFY, not two).
 */
export function unexplainedMissing(l: NotifyLedger): number {
  return Math.max(0, 2 * l.watchers - l.received - l.coalesced);
}
