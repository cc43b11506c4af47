export { createMessageSummaryPackage, type MessageSummaryPackage, type MessageSummaryPackageOptions } from './message-summary-package.js';
export {
  MESSAGE_CONTEXT_CLASSES,
  type MessageContextClass,
  type MessageSummaryDocument,
  type MessageSummaryLine,
  type MessageSummaryState,
} from './message-summary-model.js';
export { MESSAGE_SUMMARY_TYPE, parseMessageSummary } from './parse-message-summary.js';
export { aggregateMessageSummary } from './aggregate-message-summary.js';
export { renderMessageSummary } from './render-message-summary.js';
