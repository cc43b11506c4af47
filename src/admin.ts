import { runAdmin } from './admin/admin-cli.js';
import { SystemClock } from './lib/clock.js';

/**
 * Entry point of `npm run admin -- <command>` (src/admin/admin-cli.ts): the second composition root beside main.ts,
 * for operator commands on a data directory. Prints the outcome and exits with its status.
 */
const outcome = runAdmin(process.argv.slice(2), process.env, { clock: new SystemClock() });
if (outcome.out) process.stdout.write(outcome.out);
if (outcome.err) process.stderr.write(outcome.err);
process.exitCode = outcome.code;
