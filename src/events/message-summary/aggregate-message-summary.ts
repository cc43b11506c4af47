import type { AggregateInput, Publication } from '../event-package.js';
import type { MessageSummaryDocument, MessageSummaryState } from './message-summary-model.js';

/**
 * The message-waiting state of a resource: the mailbox counts set through the service when there are any (the
 * voicemail system is the authority), else the newest publication, else no messages.
 */
export function aggregateMessageSummary(input: AggregateInput, packageName: string): MessageSummaryState {
  const box = input.mailbox;
  if (box) {
    return {
      format: 'simple-message-summary',
      // RFC 3842 §5.2: "yes" when there are new messages; urgent ones count even if a source left them out of new.
      waiting: box.newMessages > 0 || box.urgentNew > 0,
      summaries: [{ context: 'voice-message', ...pickCounts(box) }],
    };
  }
  const newest = [...((input.publications[packageName] ?? []) as readonly Publication[])]
    .filter((p) => (p.doc as MessageSummaryDocument).format === 'simple-message-summary')
    .sort((a, b) => b.seq - a.seq)[0]?.doc as MessageSummaryDocument | undefined;
  if (newest) {
    const state: MessageSummaryState = { format: 'simple-message-summary', waiting: newest.waiting, summaries: newest.summaries.map((s) => ({ ...s })) };
    if (newest.account) state.account = newest.account;
    return state;
  }
  return { format: 'simple-message-summary', waiting: false, summaries: [] };
}

function pickCounts(c: { newMessages: number; oldMessages: number; urgentNew: number; urgentOld: number }) {
  return { newMessages: c.newMessages, oldMessages: c.oldMessages, urgentNew: c.urgentNew, urgentOld: c.urgentOld };
}
