import type { Clock } from './clock.js';

/**
 * `work`'s outcome, or after `ms` on `clock` the error `late()` makes (the work goes on unheeded). A rejection that is
 * not an Error becomes one.
 */
export function withDeadline<T>(clock: Clock, work: Promise<T>, ms: number, late: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimer(ms, () => reject(late()));
    work.then(
      (value) => {
        timer.cancel();
        resolve(value);
      },
      (err: unknown) => {
        timer.cancel();
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
