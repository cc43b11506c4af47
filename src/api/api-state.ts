import type { ParameterizedContext } from 'koa';
import type { AccountRecord, AuthTokenRecord } from '../store/records.js';
import type { StreamedData } from './streamed-envelope.js';

/** Per-request state the middlewares share. */
export interface ApiState {
  requestId: string;
  /** The token as the client sent it ('' when none); echoed as the envelope's `auth_token`. */
  authToken: string;
  /** Set once the token checked out. */
  token?: AuthTokenRecord;
  /** The account named in the path, once id format, token and access checked out. */
  account?: AccountRecord;
  /**
   * What a route answered; the envelope middleware wraps it. `streamed`: `data` is written as the answer is sent
   * (envelope.ts), for answers too large to build at once.
   */
  reply?: { status: number; data: unknown; streamed?: StreamedData; fields?: Record<string, unknown> };
}

export type ApiContext = ParameterizedContext<ApiState>;
