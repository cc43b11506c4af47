import { EventBodyError } from '../event-package.js';
import { attrOf, childOf, childrenOf, requireMediaType, textOf, xmlReader, type XmlNode } from '../common/index.js';
import { RPID_ACTIVITIES, type BasicStatus, type PidfDocument } from './presence-model.js';

export const PIDF_TYPE = 'application/pidf+xml';

const readPresence = xmlReader('presence', ['tuple', 'note', 'person', 'device']);
const KNOWN_ACTIVITIES = new Set(RPID_ACTIVITIES);

/**
 * Reads an `application/pidf+xml` PUBLISH body (RFC 3863 §4): basic status of the tuples, the first note, and the
 * RPID activities (RFC 4480 §3.2) found in `<dm:person>` (RFC 4479) or, as older clients put them, in a tuple.
 * Namespace prefixes are the publisher's choice and are ignored.
 */
export function parsePidf(body: Buffer, contentType: string): PidfDocument {
  requireMediaType(contentType, [PIDF_TYPE], 'presence');
  const root = readPresence(body);
  const doc: PidfDocument = { format: 'pidf', activities: [] };
  const entity = attrOf(root, 'entity')?.trim();
  if (entity) doc.entity = entity;

  const tuples = childrenOf(root, 'tuple');
  const persons = childrenOf(root, 'person');
  const basics = tuples.map((t, i) => readBasic(t, i)).filter((b): b is BasicStatus => b !== undefined);
  // RFC 3863 composition is left to the server: one open tuple means the presentity can be reached.
  if (basics.length > 0) doc.basic = basics.includes('open') ? 'open' : 'closed';

  const note = [...tuples, root, ...persons].map(firstNote).find((n) => n !== undefined);
  if (note !== undefined) doc.note = note;

  const activities = new Set<string>();
  for (const holder of [...persons, ...tuples, ...tuples.map((t) => childOf(t, 'status'))]) {
    for (const a of readActivities(childOf(holder, 'activities'))) activities.add(a);
  }
  doc.activities = [...activities];
  return doc;
}

function readBasic(tuple: XmlNode, index: number): BasicStatus | undefined {
  const text = textOf(childOf(childOf(tuple, 'status'), 'basic'));
  if (text === undefined) return undefined;
  const basic = text.trim().toLowerCase();
  if (basic !== 'open' && basic !== 'closed') {
    throw new EventBodyError(400, `tuple ${attrOf(tuple, 'id') ?? index + 1} has basic status "${text.trim()}", expected open or closed (RFC 3863 §4.1.4)`);
  }
  return basic;
}

function firstNote(holder: XmlNode | undefined): string | undefined {
  for (const n of childrenOf(holder, 'note')) {
    const text = textOf(n)?.trim();
    if (text) return text;
  }
  return undefined;
}

function readActivities(node: XmlNode | undefined): string[] {
  if (!node) return [];
  return Object.keys(node).filter((k) => KNOWN_ACTIVITIES.has(k));
}
