/**
 * A repository of records with one string key and no secondary lookups (resource states, mailboxes).
 * `clone` keeps records values (ports.ts contract rule 3).
 */
export class MemoryKeyedRepository<R> {
  private readonly map = new Map<string, R>();

  constructor(
    private readonly keyOf: (r: R) => string,
    private readonly clone: (r: R) => R,
    private readonly assertOpen: () => void,
  ) {}

  async loadAll(): Promise<R[]> {
    this.assertOpen();
    return [...this.map.values()].map(this.clone);
  }

  async get(key: string): Promise<R | undefined> {
    this.assertOpen();
    const r = this.map.get(key);
    return r === undefined ? undefined : this.clone(r);
  }

  put(record: R): void {
    this.assertOpen();
    const copy = this.clone(record);
    this.map.set(this.keyOf(copy), copy);
  }

  delete(key: string): void {
    this.assertOpen();
    this.map.delete(key);
  }
}
