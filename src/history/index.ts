// The per-resource history (issue 23): a feed observer with rings in memory and the rarer kinds in the store.
export { HISTORY_KINDS, PresenceHistory, type HistoryEntry, type HistoryKind, type HistoryPage, type ManualTrace, type NotifyTrace, type PresenceHistoryOptions, type PublisherTrace } from './presence-history.js';
export { brighter, lampOfDialogs, lampOfDialogState, stateWord, type LampWord } from './lamp-word.js';
