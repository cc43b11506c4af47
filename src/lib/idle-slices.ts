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
