import { CliError, EXIT } from './cli-error.js';

export interface ClientOptions {
  url: string;
  token: string | undefined;
}

/** The admin API's envelope as the CLI reads it. */
export interface Envelope {
  status: string;
  data: unknown;
  message?: string;
  auth_token?: string;
  next_start_key?: string;
  [field: string]: unknown;
}

/**
 * The admin API over fetch: JSON in, the envelope out, and every failure as the exit code it means: 401/403 → 4,
 * 404 → 3, another error answer → 1, no answer at all (refused, reset, bad host) → 5.
 */
export class ApiClient {
  constructor(private readonly opts: ClientOptions) {}

  get url(): string {
    return this.opts.url.replace(/\/+$/, '');
  }

  async call(method: string, path: string, body?: unknown, auth = true): Promise<Envelope> {
    const res = await this.send(method, path, body, auth);
    let env: Envelope;
    try {
      env = (await res.json()) as Envelope;
    } catch {
      throw new CliError(EXIT.error, `${method} ${path}: the answer (${res.status}) is not JSON`);
    }
    if (!res.ok) throw failure(res.status, env, path);
    return env;
  }

  /** A request whose answer the caller reads itself (the live stream); error answers are thrown as in `call`. */
  async open(path: string, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
    const res = await this.send('GET', path, undefined, true, headers, signal);
    if (!res.ok) {
      const env = (await res.json().catch(() => ({}))) as Envelope;
      throw failure(res.status, env, path);
    }
    return res;
  }

  private async send(
    method: string,
    path: string,
    body: unknown,
    auth: boolean,
    extra: Record<string, string> = {},
    signal?: AbortSignal,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: 'application/json', ...extra };
    if (auth) {
      if (!this.opts.token) throw new CliError(EXIT.auth, 'no token: run `piston login` and set PISTON_TOKEN, or pass --token');
      headers['X-Auth-Token'] = this.opts.token;
    }
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(`${this.url}${path}`, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new CliError(EXIT.unreachable, `cannot reach ${this.url}: ${cause?.code ?? cause?.message ?? (err as Error).message}`);
    }
  }
}

function failure(status: number, env: Envelope, path: string): CliError {
  const what = env.message ?? `HTTP ${status}`;
  if (status === 401 || status === 403) {
    return new CliError(EXIT.auth, `${what}: ${status === 401 ? 'the token is missing, wrong or expired (piston login)' : 'this token may not see that account'}`);
  }
  if (status === 404) return new CliError(EXIT.notFound, `not found: ${path} (${what})`);
  const detail = env.data !== undefined && env.data !== null ? ` ${JSON.stringify(env.data)}` : '';
  return new CliError(EXIT.error, `${status} ${what}${detail}`);
}
