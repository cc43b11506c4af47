import { PistonError } from '../lib/errors.js';

/**
 * Failures of the persistence port. Codes:
 * - `store_closed`: the store was used after `close()`.
 * - `store_version_too_new`: the file's schema is newer than this build knows; refuse rather than guess.
 * - `store_corrupt`: the file is not a readable database.
 * - `store_empty`: the file is there but empty (0 bytes): a database was lost, so no new one is started over it.
 * - `store_missing`: the file is gone but its write-ahead log is there.
 * - `store_open_failed`: the data directory or file could not be opened.
 * - `store_write_failed`: a flush did not commit.
 */
export class StoreError extends PistonError {}
