/**
 * Calls to the console's own server. The session lives in an HttpOnly cookie the page cannot read;
 * the CSRF token of the session is kept in this module only (never in localStorage, sessionStorage
 * or a cookie) and sent as X-CSRF-Token on every POST.
 */
let csrf: string | undefined;
let onEnded: (() => void) | undefined;

export type Session = { csrf: string; tokenId: string; name: string; scopes: string[]; expiresAt: number };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly params: Record<string, string | number>,
    readonly serverMessage: string,
    readonly serverFix: string,
  ) {
    super(`${code}: ${serverMessage}`);
  }
}

/** Called when the server says the session has ended (401), so the page shows the login again. */
export function whenSessionEnds(callback: () => void): void {
  onEnded = callback;
}

/** Set while a timed refresh calls api(): its requests say so, and do not keep the session alive. */
let refreshing = false;

/**
 * Runs `load` as a refresh the page makes on a timer (not for its user): the server does not count
 * its requests as use, so a console left open still ends its session after 30 minutes.
 */
export function asRefresh<T>(load: () => Promise<T>): Promise<T> {
  refreshing = true;
  try {
    return load();
  } finally {
    refreshing = false;
  }
}

export function setCsrf(value: string | undefined): void {
  csrf = value;
}

export async function api<T>(path: string, options: { method?: 'GET' | 'POST'; body?: unknown } = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (refreshing) headers['x-console-refresh'] = 'timer'; // CONSOLE_REFRESH of @volact/io
  if (method === 'POST') {
    headers['content-type'] = 'application/json';
    if (csrf) headers['x-csrf-token'] = csrf;
  }
  let res: Response;
  try {
    res = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      body: method === 'POST' ? JSON.stringify(options.body ?? {}) : undefined,
    });
  } catch (err) {
    throw new ApiError(0, 'NETWORK', { reason: err instanceof Error ? err.message : String(err) }, '', '');
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) {
    const b = (body ?? {}) as { code?: unknown; message?: unknown; fix?: unknown; params?: unknown };
    const err = new ApiError(
      res.status,
      typeof b.code === 'string' ? b.code : 'HTTP',
      b.params && typeof b.params === 'object' ? (b.params as Record<string, string | number>) : { status: res.status },
      typeof b.message === 'string' ? b.message : '',
      typeof b.fix === 'string' ? b.fix : '',
    );
    if (res.status === 401 && !path.endsWith('/session') && onEnded) onEnded();
    throw err;
  }
  return body as T;
}

/** Logs in: the token goes to the server once; the page keeps only the session's CSRF token. */
export async function logIn(sessionPath: string, token: string): Promise<Session> {
  const session = await api<Session>(sessionPath, { method: 'POST', body: { token } });
  setCsrf(session.csrf);
  return session;
}

/** The session of the cookie, after a reload; undefined when there is none. */
export async function currentSession(sessionPath: string): Promise<Session | undefined> {
  try {
    const session = await api<Session>(sessionPath);
    setCsrf(session.csrf);
    return session;
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 404)) return undefined;
    throw err;
  }
}

export async function logOut(sessionPath: string): Promise<void> {
  try {
    await api(`${sessionPath}/end`, { method: 'POST', body: {} });
  } finally {
    setCsrf(undefined);
  }
}

/** What a session's scopes allow: admin allows everything. */
export function allows(session: Session | undefined, scope: string): boolean {
  return !!session && (session.scopes.includes(scope) || session.scopes.includes('admin'));
}
