import { resolveExpiry, type EventPackage, type ExpiryBounds } from '../event-package.js';
import { aggregateMessageSummary } from './aggregate-message-summary.js';
import type { MessageSummaryDocument, MessageSummaryState } from './message-summary-model.js';
import { MESSAGE_SUMMARY_TYPE, parseMessageSummary } from './parse-message-summary.js';
import { renderMessageSummary } from './render-message-summary.js';

export interface MessageSummaryPackageOptions {
  expires?: Partial<ExpiryBounds>;
}

export type MessageSummaryPackage = EventPackage<MessageSummaryDocument, MessageSummaryState, undefined>;

/** The RFC 3842 message-summary event package: message-waiting lamps. */
export function createMessageSummaryPackage(options: MessageSummaryPackageOptions = {}): MessageSummaryPackage {
  const name = 'message-summary';
  return {
    name,
    contentType: MESSAGE_SUMMARY_TYPE,
    acceptTypes: [MESSAGE_SUMMARY_TYPE],
    publishTypes: [MESSAGE_SUMMARY_TYPE],
    expires: resolveExpiry(options.expires),
    uses: [],
    parsePublication: parseMessageSummary,
    applyPublication: (doc) => ({ doc, history: undefined }),
    aggregate: (input) => aggregateMessageSummary(input, name),
    render: renderMessageSummary,
  };
}
