import { PistonError } from '../lib/errors.js';

/** One failed rule on one field: `{"<field>": {"<rule>": {message, target}}}` (api-contract.md, validation). */
export interface FieldError {
  message: string;
  target: string;
}

export type FieldErrors = Record<string, Record<string, FieldError>>;

/** Input that breaks a rule; the admin API answers 400 `validation error` with `fields` as data. */
export class ValidationError extends PistonError {
  constructor(readonly fields: FieldErrors) {
    super('validation_error', `invalid fields: ${Object.keys(fields).join(', ')}`);
  }

  static one(field: string, rule: string, message: string, target: string = rule): ValidationError {
    return new ValidationError({ [field]: { [rule]: { message, target } } });
  }
}

/** An account, device or user id that does not name a record (in that account); the API answers 404 `bad_identifier`. */
export class UnknownIdError extends PistonError {
  constructor(readonly id: string) {
    super('bad_identifier', `unknown id ${id}`);
  }
}

/** Credentials or a token that do not check out; the API answers 401 `invalid_credentials`. */
export class InvalidCredentialsError extends PistonError {
  constructor(why: string) {
    super('invalid_credentials', why);
  }
}

/** A valid caller asking for what is not theirs; the API answers 403 `forbidden`. */
export class ForbiddenError extends PistonError {
  constructor(why: string) {
    super('forbidden', why);
  }
}
