import type { EventPackage, ResourceState } from '../events/event-package.js';
import type { LastNotifyRecord } from '../store/records.js';

/**
 * The last NOTIFY of a live subscription (api-contract.md `notify`), holding what its body was rendered from rather
 * than the text: the state object is shared by every watcher of the resource and immutable, so keeping it costs a
 * pointer where the text cost ~250 bytes per subscription. The body is rendered again only when someone reads it
 * (the admin API, the store's copy), and rendering is deterministic, so it is the text that was sent.
 */
export class SentNotify implements LastNotifyRecord {
  reply = 0;

  constructor(
    readonly cseq: number,
    private readonly pkg: EventPackage,
    private readonly state: ResourceState,
    private readonly entity: string,
    private readonly version: number,
    private readonly allDialogs: boolean,
  ) {}

  get body(): string {
    return this.pkg.render(this.state, { entity: this.entity, version: this.version, allDialogs: this.allDialogs }).toString('utf8');
  }
}
