import type { SipResponse } from '../../sip/message/message.js';
import type { IncomingRequest, RespondOptions } from '../../sip/ua/user-agent-core.js';
import { stateOf } from './doc-state.js';
import type { NodeContext } from './node-context.js';
import type { Outbox } from './outbox.js';
import type { Replica } from './replica.js';

/** Compare-and-set attempts of one PUBLISH before it gets 500 (cluster.md §7). */
export const PUBLISH_ATTEMPTS = 3;
/** Retry-After of that 500 (seconds). */
const RETRY_AFTER_S = 1;

/**
 * PUBLISH in cluster mode (cluster.md §7): any node takes any PUBLISH, with SIP-If-Match for a publication another
 * node created. In the resource's lane: bring the node's copy up to date when it may be stale (not cached, or an
 * entity-tag it does not know: a 412 only ever follows a fresh read), run the node's own RFC 3903 processing with
 * its answer and announcements held back, commit the resulting document under compare-and-set on the rev it was
 * derived from, then answer and announce. A lost race undoes the change silently and runs it again on a fresh read,
 * up to three times, then 500 with Retry-After. Island mode: the change applies locally, is answered and announced
 * here, and waits in the outbox.
 */
export class SharedPublish {
  constructor(
    private readonly ctx: NodeContext,
    private readonly replica: Replica,
    private readonly outbox: Outbox,
  ) {}

  readonly handle = (incoming: IncomingRequest): void => {
    const { presentity, lanes, logger } = this.ctx;
    const resource = presentity.publishResource(incoming);
    // A refused target is answered here as on a single node: nothing to share.
    if (resource === undefined) return presentity.publishHere(incoming);
    void lanes.run(resource, () => this.publish(resource, incoming)).catch((err: unknown) => {
      logger.error({ err: (err as Error).message, resource }, 'cluster PUBLISH failed');
      incoming.respond(500, { headers: [['Retry-After', String(RETRY_AFTER_S)]] });
    });
  };

  private async publish(resource: string, incoming: IncomingRequest): Promise<void> {
    const { presentity, engine, revs, link, node } = this.ctx;
    let answer: [number, RespondOptions | undefined] | undefined;
    const held: IncomingRequest = {
      request: incoming.request,
      flow: incoming.flow,
      respond: (status, options) => {
        answer = [status, options];
        // The handler never reads what respond returns; the real response is built when it is sent.
        return undefined as unknown as SipResponse;
      },
    };
    const send = (): void => {
      if (answer) incoming.respond(answer[0], answer[1]);
    };
    for (let attempt = 0; attempt < PUBLISH_ATTEMPTS; attempt++) {
      if (link.up && (attempt > 0 || this.stale(resource, incoming))) {
        try {
          await this.replica.refresh(resource);
        } catch {
          // island mode from here: the change applies locally
        }
      }
      const expectedRev = revs.get(resource) ?? 0;
      const before = presentity.exportResource(resource);
      answer = undefined;
      // The policy's hooks ran on the first attempt; a retry must not count a digest nonce twice.
      const { events } = presentity.held(() => (attempt === 0 ? presentity.publishHere(held) : presentity.handlePublishAgain(held)));
      if (answer === undefined) {
        presentity.release(events);
        return;
      }
      const [status] = answer as [number, RespondOptions | undefined];
      if (status !== 200 || !link.up) {
        send();
        presentity.release(events);
        if (status === 200) this.outbox.add(resource, before);
        return;
      }
      const doc = presentity.exportResource(resource);
      let committed: { ok: boolean; rev: number };
      try {
        committed = await engine.commit({ resource, expectedRev, doc, state: stateOf(doc), origin: node, force: false });
        link.succeeded();
      } catch (err) {
        // Not known to be written (a timed-out write may have been): the outbox's merge settles it either way.
        link.failed(err);
        send();
        presentity.release(events);
        this.outbox.add(resource, before);
        return;
      }
      if (committed.ok) {
        revs.set(resource, committed.rev);
        send();
        presentity.release(events);
        return;
      }
      // Lost the race: back to what this node's watchers last saw, without telling them, and again on a fresh read.
      presentity.held(() => presentity.installResource(resource, before));
    }
    this.ctx.logger.warn({ resource, attempts: PUBLISH_ATTEMPTS }, 'PUBLISH lost every compare-and-set race: 500');
    incoming.respond(500, { headers: [['Retry-After', String(RETRY_AFTER_S)]] });
  }

  /** Whether the node's copy may not serve this PUBLISH: not cached, or an entity-tag it does not hold. */
  private stale(resource: string, incoming: IncomingRequest): boolean {
    if (!this.ctx.revs.has(resource)) return true;
    const etag = incoming.request.headers.get('sip-if-match');
    if (etag === undefined || etag === null) return false;
    const doc = this.ctx.presentity.exportResource(resource);
    return !(doc?.publications.some((p) => p.etag === etag.trim()) ?? false);
  }
}
