/**
 * Runs `step(0) … step(count - 1)` in slices of about `sliceMs`, giving the event loop back between slices
 * (setImmediate: pending I/O is served first), so background work never delays a message by more than one slice.
 */
export function runInIdleSlices(count: number, step: (i: number) => void, sliceMs: number): { done: Promise<void>; stop(): void } {
  let next = 0;
  let stopped = false;
  let handle: NodeJS.Immediate | undefined;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => (finish = resolve));
  const slice = (): void => {
    handle = undefined;
    const until = performance.now() + sliceMs;
    while (!stopped && next < count) {
      step(next++);
      if (performance.now() >= until) break;
    }
    if (stopped || next >= count) finish();
    else handle = setImmediate(slice);
  };
  handle = setImmediate(slice);
  return {
    done,
    stop() {
      stopped = true;
      if (handle) clearImmediate(handle);
      handle = undefined;
      finish();
    },
  };
}
