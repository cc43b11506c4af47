import { PistonError } from '../lib/errors.js';

/**
 * Failures of the persistence port. Codes:
 * - `store_closed`: the store was used after `close()`.
 * - `store_version_too_new`: the file's schema is newer than this build knows; refuse rather than guess.
 * - `store_corrupt`: the file is not a readable database.
 * - `store_open_failed`: the data directory or file could not be opened.
 * - `store_write_failed`: a flush did not commit.
 */
export class StoreError extends PistonError {}
