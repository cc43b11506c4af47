export interface IdleSliceOptions {
  /** Asked before each slice: while it answers true (traffic is flowing), the slice waits `retryMs` and asks again. */
  busy?: () => boolean;
  retryMs?: number;
}

/**
 * Runs `step(0) … step(count - 1)` in slices of about `sliceMs`, giving the event loop back between slices
 * (setImmediate: pending I/O is served first), so background work never delays a message by more than one slice.
 * With `busy`, slices also wait while the server has traffic: background work then takes no CPU from it at all.
 */
export function runInIdleSlices(
  count: number,
  step: (i: number) => void,
  sliceMs: number,
  opts: IdleSliceOptions = {},
): { done: Promise<void>; stop(): void } {
  let next = 0;
  let stopped = false;
  let immediate: NodeJS.Immediate | undefined;
  let timer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const slice = (): void => {
    immediate = undefined;
    timer = undefined;
    if (!stopped && opts.busy?.()) {
      timer = setTimeout(slice, opts.retryMs ?? 100);
      return;
    }
    const until = performance.now() + sliceMs;
    while (!stopped && next < count) {
      step(next++);
      if (performance.now() >= until) break;
    }
    if (stopped || next >= count) finish();
    else immediate = setImmediate(slice);
  };
  immediate = setImmediate(slice);
  return {
    done,
    stop() {
      stopped = true;
      if (immediate) clearImmediate(immediate);
      if (timer) clearTimeout(timer);
      immediate = undefined;
      timer = undefined;
      finish();
    },
  };
}

/**
 * Time slices for long work inside one async function (a large admin API answer): the work asks `due()` as it goes
 * and, when the slice is used up, awaits `pause()`, which gives the event loop a turn (setImmediate: pending I/O such
 * as SIP messages is served first) and starts the next slice. So the loop never waits more than about one slice for
 * that work, however large it is.
 *
 * Slicers take turns: each turn of the loop runs one waiting slicer's slice, in the order they paused. Four lists at
 * once then cost the loop one slice per turn, not four.
 */
export class TimeSlicer {
  private until: number;

  constructor(private readonly sliceMs: number) {
    this.until = performance.now() + sliceMs;
  }

  /** The current slice is used up: pause before going on. */
  due(): boolean {
    return performance.now() >= this.until;
  }

  /** Its turn in a later turn of the event loop, then a fresh slice. */
  async pause(): Promise<void> {
    await new Promise<void>((resolve) => {
      waiting.push(resolve);
      if (!pumping) {
        pumping = true;
        setImmediate(nextSlice);
      }
    });
    this.until = performance.now() + this.sliceMs;
  }
}

/** Slicers waiting for a slice, in the order they paused. */
const waiting: (() => void)[] = [];
let pumping = false;

/** One slicer's slice in this turn; the next waiting one gets the next turn. */
function nextSlice(): void {
  const resume = waiting.shift();
  if (waiting.length > 0) setImmediate(nextSlice);
  else pumping = false;
  resume?.();
}
