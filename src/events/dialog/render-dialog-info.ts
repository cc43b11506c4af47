import type { RenderContext } from '../event-package.js';
import { escapeXml } from '../common/index.js';
import type { DialogParticipant, DialogRecord, DialogResourceState } from './dialog-model.js';
import { idleDialog } from './synthetic-dialog.js';

const MAX_VERSION = 0xffffffff;

interface Part {
  state: DialogResourceState;
  entity: string;
  all: boolean;
  text: string;
}

// The dialogs part depends only on the state, entity and option, not on the watcher: a fan-out renders it once for
// all the watchers of a resource, whose NOTIFYs go out one after another. So only the last few parts are kept: text
// kept for as long as its state lived (a WeakMap) was promoted to V8's old generation with it, about an eighth of
// what a 100 PUBLISH/s fan-out promoted (bench/README.md, eighth round).
const RECENT_PARTS = 8;
const recent: (Part | undefined)[] = new Array<Part | undefined>(RECENT_PARTS).fill(undefined);
let nextSlot = 0;

function partFor(state: DialogResourceState, entity: string, all: boolean): string {
  for (const p of recent) {
    if (p !== undefined && p.state === state && p.entity === entity && p.all === all) return p.text;
  }
  const text = renderDialogs(state, entity, all);
  recent[nextSlot] = { state, entity, all, text };
  nextSlot = (nextSlot + 1) % RECENT_PARTS;
  return text;
}

/**
 * Renders a full dialog-info document for one watcher (RFC 4235 §4.1): `version` is the watcher's own counter,
 * and the document always holds at least one dialog (the idle placeholder when nothing is going on), by default only
 * the most interesting one.
 */
export function renderDialogInfo(state: DialogResourceState, ctx: RenderContext): Buffer {
  const version = ctx.version;
  // RFC 4235 §4.1: version is a non-negative integer that the notifier keeps within 32 bits.
  if (!Number.isInteger(version) || version < 0 || version > MAX_VERSION) {
    throw new RangeError(`dialog-info version must be an unsigned 32-bit integer, got ${version}`);
  }
  const part = partFor(state, ctx.entity, ctx.allDialogs === true);
  return Buffer.from(
    `<?xml version="1.0"?>\n<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${escapeXml(ctx.entity)}">\n${part}</dialog-info>\n`,
    'utf8',
  );
}

function renderDialogs(state: DialogResourceState, entity: string, all: boolean): string {
  const dialogs = state.dialogs.length === 0 ? [idleDialog(entity)] : all ? state.dialogs : [state.dialogs[0]!];
  return dialogs.map(renderDialog).join('');
}

function renderDialog(d: DialogRecord): string {
  let attrs = ` id="${escapeXml(d.id)}"`;
  if (d.callId) attrs += ` call-id="${escapeXml(d.callId)}"`;
  if (d.localTag) attrs += ` local-tag="${escapeXml(d.localTag)}"`;
  if (d.remoteTag) attrs += ` remote-tag="${escapeXml(d.remoteTag)}"`;
  if (d.direction) attrs += ` direction="${d.direction}"`;
  let stateAttrs = '';
  if (d.stateEvent) stateAttrs += ` event="${escapeXml(d.stateEvent)}"`;
  if (d.stateCode !== undefined) stateAttrs += ` code="${d.stateCode}"`;
  // Child order follows the RFC 4235 §4.3 schema: state, then local, then remote.
  return (
    `  <dialog${attrs}>\n` +
    `    <state${stateAttrs}>${d.state}</state>\n` +
    renderParticipant('local', d.local) +
    renderParticipant('remote', d.remote) +
    `  </dialog>\n`
  );
}

function renderParticipant(tag: 'local' | 'remote', p: DialogParticipant | undefined): string {
  if (!p || (!p.identity && !p.target)) return '';
  let inner = '';
  if (p.identity) {
    const display = p.display ? ` display="${escapeXml(p.display)}"` : '';
    inner += `      <identity${display}>${escapeXml(p.identity)}</identity>\n`;
  }
  if (p.target) inner += `      <target uri="${escapeXml(p.target)}"/>\n`;
  return `    <${tag}>\n${inner}    </${tag}>\n`;
}
