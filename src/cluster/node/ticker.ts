import type { Clock, TimerHandle } from '../../lib/clock.js';

/** Runs an async `tick` every `ms` on the injected clock, never two at once; errors are the tick's own business. */
export class Ticker {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly ms: number,
    private readonly tick: () => Promise<void>,
  ) {}

  start(): void {
    this.running = true;
    this.arm();
  }

  stop(): void {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
  }

  private arm(): void {
    if (!this.running) return;
    this.timer = this.clock.setTimer(this.ms, () => {
      void this.tick()
        .catch(() => undefined)
        .then(() => this.arm());
    });
  }
}

/** A pause on the injected clock. */
export function pause(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(ms, resolve));
}
