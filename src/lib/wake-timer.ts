import type { Clock, TimerHandle } from './clock.js';

/**
 * The one clock timer of a structure that holds many deadlines (deadline queue, expiry wheel): armed for the
 * earliest deadline asked for, re-armed only when an earlier one comes, so scheduling a later deadline costs nothing.
 */
export class WakeTimer {
  private handle: TimerHandle | undefined;
  private at = Infinity;
  private readonly fire = (): void => {
    this.handle = undefined;
    this.at = Infinity;
    this.onWake();
  };

  constructor(
    private readonly clock: Clock,
    private readonly onWake: () => void,
  ) {}

  /** Makes sure `onWake` runs no later than `at` (ms epoch). */
  wakeBy(at: number): void {
    if (this.handle && this.at <= at) return;
    this.handle?.cancel();
    this.at = at;
    this.handle = this.clock.setTimer(Math.max(0, at - this.clock.now()), this.fire);
  }

  cancel(): void {
    this.handle?.cancel();
    this.handle = undefined;
    this.at = Infinity;
  }
}
