/** Exit codes of `piston` (operator-ux.md §7). */
export const EXIT = { ok: 0, error: 1, usage: 2, notFound: 3, auth: 4, unreachable: 5 } as const;

/** A failure with the exit code it ends the command with and the one line it prints on stderr. */
export class CliError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}
