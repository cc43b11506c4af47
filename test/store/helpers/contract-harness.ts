import type { ManualClock } from '../../../src/lib/clock.js';
import type { StoreLifecycle } from '../../../src/store/ports.js';

/** One side of a store (admin data or presence state) with the lifecycle every backend has, as a contract tests it. */
export interface StoreHarness<S> {
  store: S & StoreLifecycle;
  clock: ManualClock;
  /** Closes `store` and opens the same data again; absent for backends that keep nothing across instances. */
  reopen?: () => S & StoreLifecycle;
  /** Closes whatever is open and removes temporary files. */
  cleanup(): void;
}

export type StoreFactory<S> = () => StoreHarness<S>;

/** Opens a fresh store for one test and cleans it up when the test ends. */
export function contractHarness<S>(open: StoreFactory<S>): (tt: { teardown(fn: () => void): void }) => StoreHarness<S> {
  return (tt) => {
    const h = open();
    tt.teardown(() => h.cleanup());
    return h;
  };
}
