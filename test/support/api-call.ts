/** An admin API caller for a built server at `base`: JSON in the Kazoo envelope (`{ data }`), the token as X-Auth-Token. */
export type ApiCall<B = any> = (method: string, path: string, token?: string, data?: unknown) => Promise<{ status: number; body: B }>;

export function apiCaller<B = any>(base: string): ApiCall<B> {
  return async (method, path, token, data) => {
    const res = await fetch(base + path, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { 'x-auth-token': token } : {}) },
      ...(data === undefined ? {} : { body: JSON.stringify({ data }) }),
    });
    return { status: res.status, body: (await res.json()) as B };
  };
}
