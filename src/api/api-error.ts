import { PistonError } from '../lib/errors.js';

/**
 * A failure with the contract's error envelope (api-contract.md): HTTP status, the short `message` code and the
 * `data` describing the problem. Thrown anywhere below the error middleware, which renders it.
 */
export class ApiError extends PistonError {
  constructor(
    readonly status: number,
    /** The envelope's `message`: a short code such as `invalid_credentials`. */
    readonly short: string,
    readonly data: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(short, `${status} ${short}`);
  }
}

export const apiErrors = {
  invalidCredentials: (): ApiError => new ApiError(401, 'invalid_credentials', { message: 'invalid credentials' }),
  forbidden: (): ApiError => new ApiError(403, 'forbidden', { message: 'forbidden' }),
  badIdentifier: (id: string): ApiError => new ApiError(404, 'bad_identifier', { cause: id, message: 'bad identifier' }),
  notFound: (): ApiError => new ApiError(404, 'not_found', { message: 'not found' }),
  methodNotAllowed: (allowed: readonly string[] = []): ApiError =>
    new ApiError(405, 'method_not_allowed', { message: 'method not allowed' }, allowed.length > 0 ? { Allow: allowed.join(', ') } : {}),
  validation: (fields: unknown): ApiError => new ApiError(400, 'validation error', fields),
  invalidJson: (why: string): ApiError =>
    new ApiError(400, 'validation error', { json: { invalid: { message: why, target: 'body' } } }),
  tooLarge: (limit: number): ApiError =>
    new ApiError(413, 'request_entity_too_large', { message: `request body larger than ${limit} bytes` }),
  /** security.md §5: repeated failed logins from one address (HTTP only: SIP never answers 429). */
  tooManyLogins: (retryAfterS: number): ApiError =>
    new ApiError(
      429,
      'too_many_requests',
      { message: `too many failed logins from this address; retry in ${retryAfterS} s` },
      { 'Retry-After': String(retryAfterS) },
    ),
  internal: (): ApiError => new ApiError(500, 'internal_error', { message: 'internal error' }),
};
