import type { MailboxCounts, PublishedDocument, ResourceState } from '../event-package.js';

/** RFC 3842 §5.2 message-context-class values (RFC 3458 §4.2), lower-cased. */
export type MessageContextClass = 'voice-message' | 'fax-message' | 'pager-message' | 'multimedia-message' | 'text-message' | 'none';

export const MESSAGE_CONTEXT_CLASSES: Readonly<Record<MessageContextClass, string>> = {
  'voice-message': 'Voice-Message',
  'fax-message': 'Fax-Message',
  'pager-message': 'Pager-Message',
  'multimedia-message': 'Multimedia-Message',
  'text-message': 'Text-Message',
  none: 'None',
};

/** One msg-summary-line: counts for one class of messages. Urgent counts are among the new and old ones. */
export interface MessageSummaryLine extends MailboxCounts {
  context: MessageContextClass;
}

export interface MessageSummaryFields {
  waiting: boolean;
  /** Message-Account URI, when given. */
  account?: string;
  summaries: MessageSummaryLine[];
}

/** A parsed `application/simple-message-summary` PUBLISH body. */
export interface MessageSummaryDocument extends PublishedDocument, MessageSummaryFields {
  format: 'simple-message-summary';
}

/** What a message-summary watcher is told. */
export interface MessageSummaryState extends ResourceState, MessageSummaryFields {
  format: 'simple-message-summary';
}
