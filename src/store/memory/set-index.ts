/** A secondary index: index key → set of primary keys. Empty sets are dropped so the map never grows stale. */
export class SetIndex {
  private readonly map = new Map<string, Set<string>>();

  add(indexKey: string, primaryKey: string): void {
    let set = this.map.get(indexKey);
    if (!set) {
      set = new Set();
      this.map.set(indexKey, set);
    }
    set.add(primaryKey);
  }

  remove(indexKey: string, primaryKey: string): void {
    const set = this.map.get(indexKey);
    if (!set) return;
    set.delete(primaryKey);
    if (set.size === 0) this.map.delete(indexKey);
  }

  get(indexKey: string): ReadonlySet<string> {
    return this.map.get(indexKey) ?? EMPTY;
  }

  clear(): void {
    this.map.clear();
  }
}

const EMPTY: ReadonlySet<string> = new Set();
