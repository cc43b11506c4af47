import { ListAccountResolver } from '../../../src/accounts/account-resolver.js';
import type { DefaultRegistryOptions } from '../../../src/events/index.js';
import type { DialogResourceState } from '../../../src/events/dialog/index.js';
import { ManualClock } from '../../../src/lib/clock.js';
import { silentLogger } from '../../../src/lib/logger.js';
import type { PresentityService, ResourceChange } from '../../../src/presentity/index.js';
import { createPresenceStack } from '../../../src/stack/index.js';
import { createMemoryStore } from '../../../src/store/memory/index.js';
import type { StoreBackend } from '../../../src/store/ports.js';
import { buildPublish, FakeIncoming, type PublishSpec } from '../../support/sip-builders.js';

export const DOMAIN = 'example.com';
export const DIALOG_TYPE = 'application/dialog-info+xml';
export const PIDF_TYPE = 'application/pidf+xml';

export interface HarnessOptions {
  store?: StoreBackend;
  clock?: ManualClock;
  /** Serve every domain (the default account takes unknown ones); false refuses domains other than example.com. */
  defaultForUnknown?: boolean;
  registry?: DefaultRegistryOptions;
  minPublishExpires?: number;
}

export interface Harness {
  clock: ManualClock;
  store: StoreBackend;
  service: PresentityService;
  /** Every announcement, in order. */
  changes: ResourceChange[];
  /** Sends a PUBLISH through the service and returns the fake transaction holding the response. */
  publish(spec: PublishSpec): FakeIncoming;
  /** Dialog states (id → state) of a resource's aggregated dialog state, most interesting first. */
  dialogStates(resource: string): string[];
}

export function harness(opts: HarnessOptions = {}): Harness {
  const clock = opts.clock ?? new ManualClock();
  const store = opts.store ?? createMemoryStore();
  // The stack main.ts builds, without a network: PUBLISHes are handed to its presentity service directly.
  const { presentity: service } = createPresenceStack({
    store,
    clock,
    logger: silentLogger,
    events: opts.registry ?? {},
    accounts: new ListAccountResolver(() => [{ id: 'a'.repeat(32), realm: DOMAIN }], opts.defaultForUnknown ?? true),
    ...(opts.minPublishExpires !== undefined ? { minPublishExpires: opts.minPublishExpires } : {}),
  });
  const changes: ResourceChange[] = [];
  service.onChange((c) => changes.push(c));
  return {
    clock,
    store,
    service,
    changes,
    publish(spec) {
      const incoming = new FakeIncoming(buildPublish(spec));
      service.handlePublish(incoming);
      return incoming;
    },
    dialogStates(resource) {
      return (service.state(resource, 'dialog') as DialogResourceState).dialogs.map((d) => `${d.id}:${d.state}`);
    },
  };
}

export interface DialogSpec {
  id: string;
  state: string;
  callId?: string;
  direction?: string;
}

/** An application/dialog-info+xml body (RFC 4235 §4) with the given dialogs. */
export function dialogInfo(dialogs: readonly DialogSpec[], entity = `sip:1001@${DOMAIN}`, version = 0): string {
  const inner = dialogs
    .map((d) => {
      const attrs = [`id="${d.id}"`, d.callId ? `call-id="${d.callId}"` : '', d.direction ? `direction="${d.direction}"` : ''].filter(Boolean).join(' ');
      return `  <dialog ${attrs}>\n    <state>${d.state}</state>\n  </dialog>\n`;
    })
    .join('');
  return `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${entity}">\n${inner}</dialog-info>\n`;
}

/** An application/pidf+xml body (RFC 3863) with one tuple. */
export function pidf(basic: 'open' | 'closed', note?: string, entity = `sip:1001@${DOMAIN}`): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<presence xmlns="urn:ietf:params:xml:ns:pidf" entity="${entity}">\n` +
    `  <tuple id="t1"><status><basic>${basic}</basic></status>${note ? `<note>${note}</note>` : ''}</tuple>\n</presence>\n`
  );
}

/** A dialog PUBLISH spec for `1001@example.com` (or `target`). */
export function dialogPublish(dialogs: readonly DialogSpec[], more: Partial<PublishSpec> = {}): PublishSpec {
  return { target: `1001@${DOMAIN}`, event: 'dialog', contentType: DIALOG_TYPE, body: dialogInfo(dialogs), ...more };
}

export function header(incoming: FakeIncoming, name: string): string | undefined {
  return incoming.last.headers.get(name);
}
