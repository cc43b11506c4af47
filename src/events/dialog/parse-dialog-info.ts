import { EventBodyError } from '../event-package.js';
import { attrOf, childOf, childrenOf, requireMediaType, textOf, xmlReader, type XmlNode } from '../common/index.js';
import { parseDialogState, type DialogDirection, type DialogInfoDocument, type DialogParticipant, type DialogRecord } from './dialog-model.js';

export const DIALOG_INFO_TYPE = 'application/dialog-info+xml';

const readDialogInfo = xmlReader('dialog-info', ['dialog']);

/**
 * Reads an `application/dialog-info+xml` PUBLISH body (RFC 4235 §4). A document with no `<dialog>` is valid and says
 * nothing is going on; each `<dialog>` needs an `id` and a known `<state>`, read case-insensitively.
 */
export function parseDialogInfo(body: Buffer, contentType: string): DialogInfoDocument {
  requireMediaType(contentType, [DIALOG_INFO_TYPE], 'dialog');
  const root = readDialogInfo(body);
  const doc: DialogInfoDocument = { format: 'dialog-info', dialogs: [] };
  const entity = attrOf(root, 'entity')?.trim();
  if (entity) doc.entity = entity;
  const docState = attrOf(root, 'state')?.trim().toLowerCase();
  if (docState === 'full' || docState === 'partial') doc.state = docState;
  childrenOf(root, 'dialog').forEach((node, i) => doc.dialogs.push(readDialog(node, i)));
  return doc;
}

function readDialog(node: XmlNode, index: number): DialogRecord {
  const id = attrOf(node, 'id')?.trim();
  if (!id) throw new EventBodyError(400, `dialog ${index + 1} has no id attribute (RFC 4235 §4.1.1)`);
  const stateNode = childOf(node, 'state');
  const stateText = textOf(stateNode);
  if (stateText === undefined) throw new EventBodyError(400, `dialog ${id} has no <state> element (RFC 4235 §4.1.2)`);
  const state = parseDialogState(stateText);
  if (!state) throw new EventBodyError(400, `dialog ${id} has an unknown state "${stateText.trim()}" (RFC 4235 §3.7.1)`);

  const dialog: DialogRecord = { id, state };
  const callId = attrOf(node, 'call-id')?.trim();
  if (callId) dialog.callId = callId;
  const localTag = attrOf(node, 'local-tag')?.trim();
  if (localTag) dialog.localTag = localTag;
  const remoteTag = attrOf(node, 'remote-tag')?.trim();
  if (remoteTag) dialog.remoteTag = remoteTag;
  const direction = attrOf(node, 'direction')?.trim().toLowerCase();
  // An unknown direction is dropped rather than refused: it only decorates the lamp.
  if (direction === 'initiator' || direction === 'recipient') dialog.direction = direction satisfies DialogDirection;
  const stateEvent = attrOf(stateNode, 'event')?.trim();
  if (stateEvent) dialog.stateEvent = stateEvent;
  const stateCode = attrOf(stateNode, 'code')?.trim();
  if (stateCode && /^\d{3}$/.test(stateCode)) dialog.stateCode = Number(stateCode);
  const local = readParticipant(childOf(node, 'local'));
  if (local) dialog.local = local;
  const remote = readParticipant(childOf(node, 'remote'));
  if (remote) dialog.remote = remote;
  return dialog;
}

function readParticipant(node: XmlNode | undefined): DialogParticipant | undefined {
  if (!node) return undefined;
  const p: DialogParticipant = {};
  const identityNode = childOf(node, 'identity');
  const identity = textOf(identityNode)?.trim();
  if (identity) p.identity = identity;
  const display = attrOf(identityNode, 'display')?.trim();
  if (display) p.display = display;
  const target = attrOf(childOf(node, 'target'), 'uri')?.trim();
  if (target) p.target = target;
  return Object.keys(p).length > 0 ? p : undefined;
}
