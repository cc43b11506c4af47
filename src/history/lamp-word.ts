import type { DialogRecord } from '../events/dialog/dialog-model.js';
import type { ResourceState } from '../events/event-package.js';

/** What a BLF lamp shows (docs/operator-api.md): idle, ringing, busy. */
export type LampWord = 'terminated' | 'early' | 'confirmed';

/** Lamp words from most to least interesting, for merging the domains of one extension. */
const RANK: Record<LampWord, number> = { early: 3, confirmed: 2, terminated: 1 };

/** The more interesting of two lamp words (early > confirmed > terminated). */
export function brighter(a: LampWord, b: LampWord): LampWord {
  return RANK[a] >= RANK[b] ? a : b;
}

/** A dialog state as a lamp word: `trying` and `proceeding` (a call being set up) show as busy. */
export function lampOfDialogState(state: string | undefined): LampWord {
  if (state === 'early') return 'early';
  if (state === 'confirmed' || state === 'trying' || state === 'proceeding') return 'confirmed';
  return 'terminated';
}

/** The lamp of a list of dialogs: the most interesting one's (aggregate-dialogs.ts sorts them so; published documents are not sorted). */
export function lampOfDialogs(dialogs: readonly { state: string }[] | undefined): LampWord {
  let word: LampWord = 'terminated';
  for (const d of dialogs ?? []) word = brighter(word, lampOfDialogState(d.state));
  return word;
}

/**
 * One word for a package's aggregated state, as the history's `state` entries show it: the lamp word for dialog,
 * the PIDF basic status (and activities) for presence, `waiting`/`none` for message-summary.
 */
export function stateWord(state: ResourceState | undefined): string {
  if (state === undefined) return 'terminated';
  const s = state as unknown as Record<string, unknown>;
  switch (state.format) {
    case 'dialog-info':
      return lampOfDialogs(s.dialogs as DialogRecord[] | undefined);
    case 'pidf': {
      const activities = Array.isArray(s.activities) && s.activities.length > 0 ? ` (${(s.activities as string[]).join(', ')})` : '';
      return `${String(s.basic ?? 'closed')}${activities}`;
    }
    case 'simple-message-summary':
      return s.waiting === true ? 'waiting' : 'none';
    default:
      return state.format;
  }
}
