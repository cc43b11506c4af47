import type { PublishedDocument, ResourceState } from '../event-package.js';

/** RFC 4235 §3.7.1 dialog states, in lifecycle order. */
export type DialogStateName = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';

export const DIALOG_STATES: readonly DialogStateName[] = ['trying', 'proceeding', 'early', 'confirmed', 'terminated'];

/** RFC 4235 §4.1.1: whether the observed party sent the INVITE (initiator) or received it (recipient). */
export type DialogDirection = 'initiator' | 'recipient';

/** One side of a dialog (RFC 4235 §4.1.6): who it is and where it can be reached. */
export interface DialogParticipant {
  /** Address of record, from `<identity>`. */
  identity?: string;
  /** The `display` attribute of `<identity>`. */
  display?: string;
  /** Contact URI, from `<target uri>`: what an INVITE with Replaces is sent to. */
  target?: string;
}

/** One dialog as published or synthesised; all optional parts are omitted rather than left undefined. */
export interface DialogRecord {
  /** RFC 4235 §4.1.1: unique among the dialogs of one entity. */
  id: string;
  callId?: string;
  localTag?: string;
  remoteTag?: string;
  direction?: DialogDirection;
  state: DialogStateName;
  /** The `event` attribute of `<state>` (RFC 4235 §4.1.2), e.g. `rejected`, `replaced`. */
  stateEvent?: string;
  /** The `code` attribute of `<state>`: the response code that caused the transition. */
  stateCode?: number;
  local?: DialogParticipant;
  remote?: DialogParticipant;
}

/** A parsed dialog-info+xml PUBLISH body. */
export interface DialogInfoDocument extends PublishedDocument {
  format: 'dialog-info';
  /** The `entity` attribute, when given. */
  entity?: string;
  /** The `state` attribute as published (`full` or `partial`); each publication is treated as full for its ETag. */
  state?: 'full' | 'partial';
  dialogs: DialogRecord[];
}

/** Aggregated dialog state of one resource: every live dialog, most interesting first. Empty means idle. */
export interface DialogResourceState extends ResourceState {
  format: 'dialog-info';
  dialogs: DialogRecord[];
}

/**
 * What the dialog package remembers between publications of one resource (RFC 4235 §3.7.1: `terminated` is final).
 * `ended` maps dialog ids to the time (ms) they were seen terminated, newest last; bounded in size and age.
 * A plain object: the notifier stores it as JSON beside the publications.
 */
export interface DialogHistory {
  ended: Array<[id: string, endedAt: number]>;
}

/** Limits on the history kept per resource. */
export interface DialogHistoryLimits {
  /** How long a terminated id is remembered; longer than the longest publication lifetime (3600 s) by default. */
  maxAgeMs: number;
  maxEntries: number;
}

export const DEFAULT_HISTORY_LIMITS: Readonly<DialogHistoryLimits> = Object.freeze({ maxAgeMs: 2 * 3600 * 1000, maxEntries: 64 });

const INTEREST: Record<DialogStateName, number> = {
  // sip-behaviour.md: a ringing call matters most (pickup), then an established one, then calls being set up.
  early: 5,
  confirmed: 4,
  proceeding: 3,
  trying: 2,
  terminated: 1,
};

/** Higher is more interesting for a BLF lamp. */
export function interestOf(state: DialogStateName): number {
  return INTEREST[state];
}

/** Reads a state name case-insensitively (Kamailio sends `Trying`); undefined when it is not an RFC 4235 state. */
export function parseDialogState(text: string): DialogStateName | undefined {
  const s = text.trim().toLowerCase();
  return (DIALOG_STATES as readonly string[]).includes(s) ? (s as DialogStateName) : undefined;
}
