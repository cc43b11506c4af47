import type { RenderContext } from '../event-package.js';
import { escapeXml, stableId } from '../common/index.js';
import type { PresenceResourceState } from './presence-model.js';

/**
 * Renders a PIDF document (RFC 3863 §4) with one tuple for the resource and, when there are activities, an RFC 4479
 * `<dm:person>` carrying RPID `<rpid:activities>` (RFC 4480 §3.2). Tuple and person ids derive from the entity, so
 * they are the same in every NOTIFY.
 */
export function renderPidf(state: PresenceResourceState, ctx: RenderContext): Buffer {
  const entity = escapeXml(ctx.entity);
  let xml =
    `<?xml version="1.0" encoding="UTF-8"?>\n` +
    `<presence xmlns="urn:ietf:params:xml:ns:pidf" xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" entity="${entity}">\n` +
    `  <tuple id="${stableId('t', ctx.entity)}">\n` +
    `    <status>\n` +
    `      <basic>${state.basic}</basic>\n` +
    `    </status>\n` +
    (state.note ? `    <note>${escapeXml(state.note)}</note>\n` : '') +
    `  </tuple>\n`;
  if (state.activities.length > 0) {
    xml +=
      `  <dm:person id="${stableId('p', ctx.entity)}">\n` +
      `    <rpid:activities>\n` +
      // Activity names come from the RFC 4480 list (parse-pidf filters them), so they need no escaping.
      state.activities.map((a) => `      <rpid:${a}/>\n`).join('') +
      `    </rpid:activities>\n` +
      `  </dm:person>\n`;
  }
  return Buffer.from(xml + `</presence>\n`, 'utf8');
}
