/**
 * One lane per resource for this node's cluster work (a PUBLISH's read-apply-commit, an outbox push, a sweep): work
 * on one resource runs one piece at a time, in arrival order, while other resources go on. While a lane is busy the
 * change reader holds that resource's stream entries back (`whenIdle`), so an entry never lands between a local
 * change and its commit.
 */
export class ResourceLanes {
  private readonly lanes = new Map<string, { tail: Promise<void>; pending: number; idle: (() => void)[] }>();

  run<T>(resource: string, work: () => Promise<T>): Promise<T> {
    let lane = this.lanes.get(resource);
    if (!lane) {
      lane = { tail: Promise.resolve(), pending: 0, idle: [] };
      this.lanes.set(resource, lane);
    }
    const l = lane;
    l.pending++;
    const result = l.tail.then(work);
    l.tail = result.then(
      () => this.done(resource, l),
      () => this.done(resource, l),
    );
    return result;
  }

  busy(resource: string): boolean {
    return this.lanes.has(resource);
  }

  /** Runs `fn` once the resource's lane is empty (at once when it is). */
  whenIdle(resource: string, fn: () => void): void {
    const lane = this.lanes.get(resource);
    if (lane) lane.idle.push(fn);
    else fn();
  }

  get size(): number {
    return this.lanes.size;
  }

  private done(resource: string, lane: { pending: number; idle: (() => void)[] }): void {
    lane.pending--;
    if (lane.pending > 0) return;
    this.lanes.delete(resource);
    for (const fn of lane.idle.splice(0)) fn();
  }
}
