/** Base for the project's typed errors: `code` is stable and machine-readable, `message` is for people. */
export class PistonError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
