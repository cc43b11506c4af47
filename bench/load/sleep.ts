import { setTimeout as delay } from 'node:timers/promises';

/** Waits ms milliseconds (the runner is a plain CLI: wall-clock waits are what it measures around). */
export function sleep(ms: number): Promise<void> {
  return delay(ms).then(() => undefined);
}
