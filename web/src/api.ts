import type { ApiError } from './types';

/** An answer that is not 2xx, with the API's JSON error (`{error, issues}`) when it sent one. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
  ) {
    super(body.error);
  }
}

/**
 * One JSON request to our own API. Every answer the API gives is JSON, errors
 * included; anything else (a proxy's page, a dropped connection) becomes an
 * ApiFailure with status 0 and a message a person can read.
 */
export async function api<T>(
  path: string,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<{ data: T; headers: Headers }> {
  let res: Response;
  try {
    res = await fetch(path, {
      method: init.method ?? 'GET',
      headers: { accept: 'application/json', ...(init.body !== undefined && { 'content-type': 'application/json' }), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiFailure(0, { error: 'The API did not answer; check your connection and try again' });
  }
  const body = await res.json().catch(() => ({ error: `The API answered ${res.status} without a JSON body` }));
  if (!res.ok) throw new ApiFailure(res.status, body as ApiError);
  return { data: body as T, headers: res.headers };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** The operator token, entered once per browser session (sessionStorage), never put in a URL. */
export const operatorSession = {
  get: () => sessionStorage.getItem('operatorToken'),
  set: (token: string) => sessionStorage.setItem('operatorToken', token),
  clear: () => sessionStorage.removeItem('operatorToken'),
};
