import { PresenceHistory, type HistoryEntry } from '../../../src/history/presence-history.js';
import { silentLogger } from '../../../src/lib/logger.js';
import { MemoryHistoryRepository } from '../../../src/store/memory/memory-history.js';
import { DOMAIN, NotifierHarness } from '../../subscriptions/helpers/notifier-harness.js';

/** The resource the history tests watch and publish. */
export const KEY = `1001@${DOMAIN}`;

/**
 * A history listening to an in-process SIP side (the notifier harness: subscribe, publish, answers), over a memory
 * store; `all(kind?)` reads KEY's entries, newest first.
 */
export function historyHarness(t: { teardown(fn: () => unknown): void }, ringSize?: number) {
  const sip = new NotifierHarness();
  const repository = new MemoryHistoryRepository();
  const history = new PresenceHistory({
    feed: sip.feed,
    clock: sip.clock,
    logger: silentLogger,
    repository,
    stateOf: (resource, event) => sip.presentity.state(resource, event),
    ...(ringSize === undefined ? {} : { ringSize }),
  });
  history.start();
  t.teardown(() => {
    history.stop();
    sip.dispose();
  });
  const all = (kind?: string): HistoryEntry[] => history.query([KEY], { limit: 1000, ...(kind ? { kind } : {}) }).entries;
  return { sip, repository, history, all };
}
