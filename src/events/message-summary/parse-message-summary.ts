import { EventBodyError } from '../event-package.js';
import { requireMediaType } from '../common/index.js';
import { MESSAGE_CONTEXT_CLASSES, type MessageContextClass, type MessageSummaryDocument } from './message-summary-model.js';

export const MESSAGE_SUMMARY_TYPE = 'application/simple-message-summary';

// RFC 3842 §5.2: newmsgs SLASH oldmsgs [ LPAREN new-urgentmsgs SLASH old-urgentmsgs RPAREN ], SLASH and the
// parentheses allowing surrounding whitespace (RFC 3261 §25.1 SWS).
const COUNTS = /^(\d{1,9})\s*\/\s*(\d{1,9})(?:\s*\(\s*(\d{1,9})\s*\/\s*(\d{1,9})\s*\))?$/;

/**
 * Reads an `application/simple-message-summary` PUBLISH body (RFC 3842 §5.2). The Messages-Waiting line is required;
 * Message-Account and the summary lines are optional; lines after the first empty line (optional message headers)
 * and unknown header lines are ignored. LF line ends are accepted as well as CRLF.
 */
export function parseMessageSummary(body: Buffer, contentType: string): MessageSummaryDocument {
  requireMediaType(contentType, [MESSAGE_SUMMARY_TYPE], 'message-summary');
  const lines = body.toString('utf8').split(/\r?\n/);
  const first = lines.findIndex((l) => l.trim() !== '');
  const headerLines: string[] = [];
  for (let i = Math.max(first, 0); i < lines.length && lines[i]!.trim() !== ''; i++) headerLines.push(lines[i]!);

  let waiting: boolean | undefined;
  const doc: MessageSummaryDocument = { format: 'simple-message-summary', waiting: false, summaries: [] };
  for (const line of headerLines) {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new EventBodyError(400, `message-summary line without a colon: "${line.trim()}"`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'messages-waiting') {
      const v = value.toLowerCase();
      if (v !== 'yes' && v !== 'no') throw new EventBodyError(400, `Messages-Waiting must be yes or no, not "${value}" (RFC 3842 §5.2)`);
      if (waiting === undefined) waiting = v === 'yes';
    } else if (name === 'message-account') {
      if (value) doc.account = value;
    } else if (name in MESSAGE_CONTEXT_CLASSES) {
      const m = COUNTS.exec(value);
      if (!m) throw new EventBodyError(400, `${line.slice(0, colon).trim()} counts must read new/old (urgent_new/urgent_old), not "${value}" (RFC 3842 §5.2)`);
      doc.summaries.push({
        context: name as MessageContextClass,
        newMessages: Number(m[1]),
        oldMessages: Number(m[2]),
        urgentNew: m[3] === undefined ? 0 : Number(m[3]),
        urgentOld: m[4] === undefined ? 0 : Number(m[4]),
      });
    }
  }
  if (waiting === undefined) throw new EventBodyError(400, 'the body has no Messages-Waiting line (RFC 3842 §5.2)');
  doc.waiting = waiting;
  return doc;
}
