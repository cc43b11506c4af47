import type { ParameterizedContext } from 'koa';
import type { AccountRecord, AuthTokenRecord } from '../store/records.js';

/** Per-request state the middlewares share. */
export interface ApiState {
  requestId: string;
  /** The token as the client sent it ('' when none); echoed as the envelope's `auth_token`. */
  authToken: string;
  /** Set once the token checked out. */
  token?: AuthTokenRecord;
  /** The account named in the path, once id format, token and access checked out. */
  account?: AccountRecord;
  /** What a route answered; the envelope middleware wraps it. */
  reply?: { status: number; data: unknown };
}

export type ApiContext = ParameterizedContext<ApiState>;
