import type { EventPackage, ResourceState } from '../events/event-package.js';
import type { LastNotifyRecord } from '../store/records.js';

/**
 * The last NOTIFY of a live subscription (api-contract.md `notify`), holding what its body was rendered from rather
 * than the text: the state object is shared by every watcher of the resource and immutable, so keeping it costs a
 * pointer where the text cost ~250 bytes per subscription. The body is rendered again only when someone reads it
 * (the admin API, the store's copy), and rendering is deterministic, so it is the text that was sent.
 *
 * One per subscription, overwritten by each NOTIFY (`record`): a new one per NOTIFY lived until the watcher's next
 * NOTIFY and was promoted to V8's old generation under a steady fan-out (bench/README.md, eighth round). The store
 * copies it field by field when it takes a write (store/clone.ts), so nobody else holds it.
 */
export class SentNotify implements LastNotifyRecord {
  reply = 0;

  constructor(
    public cseq: number,
    private pkg: EventPackage,
    private state: ResourceState,
    private entity: string,
    private version: number,
    private allDialogs: boolean,
  ) {}

  /** Now stands for a newer NOTIFY, not answered yet. */
  record(cseq: number, pkg: EventPackage, state: ResourceState, entity: string, version: number, allDialogs: boolean): void {
    this.cseq = cseq;
    this.pkg = pkg;
    this.state = state;
    this.entity = entity;
    this.version = version;
    this.allDialogs = allDialogs;
    this.reply = 0;
  }

  get body(): string {
    return this.pkg.render(this.state, { entity: this.entity, version: this.version, allDialogs: this.allDialogs }).toString('utf8');
  }
}
