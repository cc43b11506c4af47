import type { RenderContext } from '../event-package.js';
import { MESSAGE_CONTEXT_CLASSES, type MessageSummaryLine, type MessageSummaryState } from './message-summary-model.js';

// A header-style body line must not be broken by a CR, LF or other control character coming from configuration or
// a publication.
const CONTROL = /[\u0000-\u001f\u007f]/g;

/**
 * Renders an RFC 3842 §5.2 body with CRLF line ends: Messages-Waiting, Message-Account (from the context, else the
 * one published, else the entity), and a Voice-Message line that is always present, urgent counts included.
 */
export function renderMessageSummary(state: MessageSummaryState, ctx: RenderContext): Buffer {
  const account = (ctx.messageAccount ?? state.account ?? ctx.entity).replace(CONTROL, '');
  let text = `Messages-Waiting: ${state.waiting ? 'yes' : 'no'}\r\nMessage-Account: ${account}\r\n`;
  const lines = state.summaries.some((s) => s.context === 'voice-message')
    ? state.summaries
    : [{ context: 'voice-message', newMessages: 0, oldMessages: 0, urgentNew: 0, urgentOld: 0 } as MessageSummaryLine, ...state.summaries];
  for (const s of lines) {
    text += `${MESSAGE_CONTEXT_CLASSES[s.context]}: ${count(s.newMessages)}/${count(s.oldMessages)} (${count(s.urgentNew)}/${count(s.urgentOld)})\r\n`;
  }
  return Buffer.from(text, 'utf8');
}

/** Counts are non-negative integers on the wire whatever a caller stored. */
function count(n: number): number {
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : 0;
}
