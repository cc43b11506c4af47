#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ApiClient } from './api-client.js';
import { CliError, EXIT } from './cli-error.js';
import * as commands from './commands.js';
import { Output } from './output.js';

const HELP = `piston: the support CLI of Piston Presence (docs/operator-api.md)

usage: piston <command> [options]

commands:
  login --api-key KEY [--export]     get a token (prints it; --export prints shell exports)
  list [--event E] [--resource R]    live subscriptions
  show <ext>                         why the lamp shows what it shows
  history <ext> [--since 1h] [--limit N] [--kind K]
  reset <ext> | --device ID | --user ID
  set <ext> | --device ID | --user ID  early|confirmed|terminated
  watch [ext...] [--event E] [--count N]   the live stream (NDJSON with --json)

options:
  --url URL        admin API (PISTON_URL, default http://127.0.0.1:8000)
  --token TOKEN    (PISTON_TOKEN)
  --account ID     (PISTON_ACCOUNT, default the token's account)
  --json           the API's data, for scripts
  --no-color       (also NO_COLOR)

exit codes: 0 ok, 1 error, 2 usage, 3 not found, 4 auth, 5 unreachable
`;

const RUN: Record<string, (ctx: commands.CommandContext) => Promise<void>> = {
  login: commands.login,
  list: commands.list,
  show: commands.show,
  history: commands.history,
  reset: commands.reset,
  set: commands.set,
  watch: commands.watch,
};

/** Runs one command line; resolves with the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      allowNegative: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        account: { type: 'string' },
        json: { type: 'boolean' },
        color: { type: 'boolean', default: true },
        help: { type: 'boolean', short: 'h' },
        'api-key': { type: 'string' },
        export: { type: 'boolean' },
        event: { type: 'string' },
        resource: { type: 'string' },
        since: { type: 'string' },
        limit: { type: 'string' },
        kind: { type: 'string' },
        device: { type: 'string' },
        user: { type: 'string' },
        count: { type: 'string' },
      },
    });
  } catch (err) {
    process.stderr.write(`piston: ${(err as Error).message}\n(piston --help)\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const out = new Output(process.stdout, process.stderr, values.color !== false);
  const [name, ...args] = positionals;
  if (values.help || name === 'help') {
    process.stdout.write(HELP);
    return EXIT.ok;
  }
  const command = name === undefined ? undefined : RUN[name];
  if (!command) {
    out.message(name === undefined ? 'piston: a command is needed' : `piston: unknown command ${name}`);
    out.message('(piston --help)');
    return EXIT.usage;
  }
  const client = new ApiClient({
    url: values.url ?? process.env.PISTON_URL ?? 'http://127.0.0.1:8000',
    token: values.token ?? (process.env.PISTON_TOKEN || undefined),
  });
  try {
    await command({
      client,
      out,
      json: values.json === true,
      account: values.account ?? (process.env.PISTON_ACCOUNT || undefined),
      options: values as Record<string, string | boolean | undefined>,
      args,
    });
    return EXIT.ok;
  } catch (err) {
    if (err instanceof CliError) {
      out.message(`piston: ${err.message}`);
      return err.code;
    }
    out.message(`piston: ${(err as Error).message}`);
    return EXIT.error;
  }
}

// Run when executed (the bin), not when imported.
const self = process.argv[1] ?? '';
if (/piston(\.js)?$/.test(self)) {
  run(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    () => {
      process.exitCode = EXIT.error;
    },
  );
}
