/**
 * While the store cannot write (its flushes fail; `PresenceStore.writeHealth()`), a request that would create state
 * the store has never held, a new subscription or an initial PUBLISH, is answered 503 Service Unavailable with
 * Retry-After (RFC 3261 §21.5.4, §20.33) rather than acknowledged and then lost at the next restart. What is already
 * held in memory is still served: a refused refresh would only let a working subscription or publication lapse, and
 * its state is written as soon as a flush succeeds again. The presentity service and the notifier share the answer.
 */

/** Long enough that a phone retrying does not add load to a server in trouble; short enough to heal soon after a fix. */
export const STORE_RETRY_AFTER_SECONDS = 30;

/** Goes to the log and, as a Warning (RFC 3261 §20.43, code 399), to the peer; no file names or internal codes. */
export const STORE_REFUSAL_WHY = 'presence store cannot save new state; retry later';
