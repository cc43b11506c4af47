/**
 * Counts turns of the event loop (one setImmediate per turn) until stopped, so a test can tell whether work was
 * spread over several turns or ran in one.
 */
export interface TurnCounter {
  /** Turns counted so far. */
  readonly turn: number;
  stop(): void;
}

export function countLoopTurns(): TurnCounter {
  let turn = 0;
  let counting = true;
  const tick = (): void => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get turn() {
      return turn;
    },
    stop() {
      counting = false;
    },
  };
}
