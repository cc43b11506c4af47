/**
 * A note for a published RPID activity (RFC 4480 §3.2) that came without one. Phones show the PIDF `<note>` as the
 * status line (pjsua takes it as the status text and falls back to "Online" from the basic status alone), so a note
 * must say what the activity says: "Available" beside `on-the-phone` told a watcher the opposite of the truth.
 * `unknown` has no label: it says nothing a note could repeat.
 */
const ACTIVITY_NOTES: Readonly<Record<string, string>> = {
  appointment: 'Appointment',
  away: 'Away',
  breakfast: 'At breakfast',
  busy: 'Busy',
  dinner: 'At dinner',
  holiday: 'On holiday',
  'in-transit': 'In transit',
  'looking-for-work': 'Looking for work',
  meal: 'At a meal',
  meeting: 'In a meeting',
  'on-the-phone': 'On the phone',
  performance: 'At a performance',
  'permanent-absence': 'Absent',
  playing: 'Playing',
  presentation: 'Presenting',
  shopping: 'Shopping',
  sleeping: 'Sleeping',
  spectator: 'Watching',
  steering: 'Driving',
  travel: 'Travelling',
  tv: 'Watching TV',
  vacation: 'On vacation',
  working: 'Working',
  worship: 'At worship',
};

/** The note for the first activity that has one, in the order given; undefined when none has. */
export function noteForActivities(activities: readonly string[]): string | undefined {
  for (const a of activities) {
    const note = ACTIVITY_NOTES[a];
    if (note !== undefined) return note;
  }
  return undefined;
}
