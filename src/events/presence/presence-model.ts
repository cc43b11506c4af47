import type { PublishedDocument, ResourceState } from '../event-package.js';

/** RFC 3863 §4.1.4: the basic status of a tuple. */
export type BasicStatus = 'open' | 'closed';

/** RFC 4480 §3.2 activity values (the `<other>` extension is not carried). */
export const RPID_ACTIVITIES: readonly string[] = [
  'appointment',
  'away',
  'breakfast',
  'busy',
  'dinner',
  'holiday',
  'in-transit',
  'looking-for-work',
  'meal',
  'meeting',
  'on-the-phone',
  'performance',
  'permanent-absence',
  'playing',
  'presentation',
  'shopping',
  'sleeping',
  'spectator',
  'steering',
  'travel',
  'tv',
  'unknown',
  'vacation',
  'working',
  'worship',
];

/** A parsed `application/pidf+xml` PUBLISH body, reduced to what we pass on. */
export interface PidfDocument extends PublishedDocument {
  format: 'pidf';
  entity?: string;
  /** Open when any tuple is open, closed when tuples say only closed, absent when no tuple has a basic status. */
  basic?: BasicStatus;
  note?: string;
  /** RFC 4480 activity names, in document order, without duplicates. */
  activities: string[];
}

/** What a presence watcher is told about a resource. */
export interface PresenceResourceState extends ResourceState {
  format: 'pidf';
  basic: BasicStatus;
  note: string;
  activities: string[];
}

/** The activity a resource's calls imply (sip-behaviour.md, "Bodies"): none when idle. */
export type CallActivity = 'on-the-phone' | 'busy' | undefined;
