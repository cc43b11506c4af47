/**
 * Our server's Prometheus text (`GET /metrics` on its API port), read for the figures a step cross-checks against
 * what SIPp saw: NOTIFYs sent and failed, subscriptions held, the cluster's change stream outcomes.
 */

/** One sample line: metric name, its labels, its value. */
export interface MetricSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The samples of a text exposition (comments and blank lines skipped; label values without escaped quotes). */
export function parseMetrics(text: string): MetricSample[] {
  const out: MetricSample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="([^"]*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** The sum of a metric's samples whose labels include `where` (all of them without it); 0 when absent. */
export function metricSum(samples: readonly MetricSample[], name: string, where: Record<string, string> = {}): number {
  let sum = 0;
  for (const s of samples) {
    if (s.name !== name) continue;
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) sum += s.value;
  }
  return sum;
}

/** A metric's samples by one label's value (summed over the other labels). */
export function metricBy(samples: readonly MetricSample[], name: string, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name) continue;
    const k = s.labels[label] ?? '';
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

/** Reads one server's metrics; an empty list when it does not answer within `timeoutMs` (the step reports n/a). */
export async function scrapeMetrics(apiPort: number, timeoutMs = 5000): Promise<MetricSample[]> {
  try {
    const res = await fetch(`http://127.0.0.1:${apiPort}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
    if (!res.ok) return [];
    return parseMetrics(await res.text());
  } catch {
    return [];
  }
}
