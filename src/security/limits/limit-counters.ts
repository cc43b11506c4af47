/** Every limit that can be hit, the label of `piston_sip_limit_hits_total`: a fixed set, so cardinality is bounded. */
export const LIMIT_NAMES = [
  'scanner',
  'rate-dropped',
  'rate-refused',
  'ban-started',
  'connections-per-address',
  'connections-total',
  'first-bytes',
  'message-deadline',
  'byte-budget',
  'send-backlog',
  'subscriptions-per-watcher',
  'subscription-ceiling',
  'publications-per-resource',
  'publication-ceiling',
] as const;

export type LimitName = (typeof LIMIT_NAMES)[number];

/**
 * Plain counts, bumped on the SIP path (one property increment) and read by the metrics at scrape time: nothing of
 * prom-client runs per request.
 */
export type LimitCounters = Record<LimitName, number>;

export function newLimitCounters(): LimitCounters {
  return Object.fromEntries(LIMIT_NAMES.map((n) => [n, 0])) as LimitCounters;
}
