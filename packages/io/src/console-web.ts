import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, relative, sep } from 'node:path';
import { VolactError } from '@volact/protocol';

/**
 * What the two web consoles (the host's and the authority's) share on the server side: sessions
 * held in memory behind an HttpOnly cookie, the checks every cookie-authenticated change passes
 * (same origin, CSRF token), and the built page's files served under a strict
 * Content-Security-Policy. The token itself is sent once, at login, and never kept by the page.
 */

/** Who a session acts as: the token it was opened with (re-checked by the role on each request). */
export type ConsoleIdentity = { tokenId: string; name: string; scopes: string[] };
export type ConsoleSession = { id: string; csrf: string; identity: ConsoleIdentity; expiresAt: number };

/** The authority console's cookie; the host console's is HOST_CONSOLE_COOKIE. */
const COOKIE = 'volact_session';
/**
 * Cookies are not kept apart by port: with the authority's console and a host's on one address
 * (`volact demo`, both on 127.0.0.1), one name would make each login end the other's.
 */
export const HOST_CONSOLE_COOKIE = 'volact_host_session';
/** The header a console page sends with a request it makes on a timer, not for its user. */
export const CONSOLE_REFRESH = 'x-console-refresh';
const MINUTE = 60_000;

type Held = ConsoleSession & { startedAt: number; lastUsed: number };

/**
 * Console sessions in memory: a restart logs everyone out, which is what an operator expects of
 * a console and keeps no session secret on disk. A session ends after `idleMs` unused (30 min),
 * after `maxAgeMs` in all (12 h), at logout, or when its token is revoked; at most `max` are
 * held (the oldest goes first), so a flood of logins cannot grow memory.
 */
export class ConsoleSessions {
  private readonly held = new Map<string, Held>();
  private readonly now: () => number;
  private readonly idleMs: number;
  private readonly maxAgeMs: number;
  private readonly max: number;
  /** The cookie's name (COOKIE, or HOST_CONSOLE_COOKIE). */
  readonly cookie: string;

  constructor(opts: { now: () => number; idleMs?: number; maxAgeMs?: number; max?: number; cookie?: string }) {
    this.now = opts.now;
    this.cookie = opts.cookie ?? COOKIE;
    this.idleMs = opts.idleMs ?? 30 * MINUTE;
    this.maxAgeMs = opts.maxAgeMs ?? 12 * 60 * MINUTE;
    this.max = opts.max ?? 1000;
  }

  create(identity: ConsoleIdentity): ConsoleSession {
    while (this.held.size >= this.max) this.held.delete(this.held.keys().next().value!);
    const now = this.now();
    const held: Held = {
      id: randomBytes(32).toString('base64url'),
      csrf: randomBytes(32).toString('base64url'),
      identity,
      startedAt: now,
      lastUsed: now,
      expiresAt: now + this.idleMs,
    };
    this.held.set(held.id, held);
    return view(held);
  }

  /**
   * The session named by the request's cookie, if it is still open; using it extends its idle
   * time, unless the request is a page's own timed refresh (`X-Console-Refresh`, CONSOLE_REFRESH):
   * an overview left open polls every few seconds, and would otherwise never be idle.
   */
  find(req: IncomingMessage): ConsoleSession | undefined {
    const id = cookieValue(req.headers.cookie, this.cookie);
    if (!id) return undefined;
    const held = this.held.get(id);
    if (!held) return undefined;
    const now = this.now();
    if (now - held.lastUsed >= this.idleMs || now - held.startedAt >= this.maxAgeMs) {
      this.held.delete(id);
      return undefined;
    }
    if (req.headers[CONSOLE_REFRESH] !== undefined) return view(held);
    held.lastUsed = now;
    held.expiresAt = Math.min(now + this.idleMs, held.startedAt + this.maxAgeMs);
    return view(held);
  }

  /** Whether the request carries a session cookie at all (to tell "ended" from "never logged in"). */
  static hasCookie(req: IncomingMessage, name = COOKIE): boolean {
    return cookieValue(req.headers.cookie, name) !== undefined;
  }

  end(id: string): void {
    this.held.delete(id);
  }

  /** Ends every session opened with this token (it was revoked). */
  endToken(tokenId: string): void {
    for (const [id, held] of this.held) if (held.identity.tokenId === tokenId) this.held.delete(id);
  }

  get size(): number {
    return this.held.size;
  }
}

function view(held: Held): ConsoleSession {
  return { id: held.id, csrf: held.csrf, identity: held.identity, expiresAt: held.expiresAt };
}

/** One cookie's value from a Cookie header; undefined when absent or not a plausible session ID. */
function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header || header.length > 8192) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    return /^[A-Za-z0-9_-]{20,100}$/.test(value) ? value : undefined;
  }
  return undefined;
}

/**
 * The session cookie: HttpOnly (the page's scripts never see it), SameSite=Strict (a browser
 * never sends it with a request another site starts), Secure when served over TLS.
 */
export function sessionCookie(session: ConsoleSession, secure: boolean, name = COOKIE): string {
  return `${name}=${session.id}; HttpOnly; SameSite=Strict; Path=/${secure ? '; Secure' : ''}`;
}

export function endedSessionCookie(secure: boolean, name = COOKIE): string {
  return `${name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secure ? '; Secure' : ''}`;
}

/**
 * The checks a change made with the session cookie passes, beside SameSite=Strict: the browser
 * says it came from the console's own origin (Sec-Fetch-Site, Origin), and it carries the CSRF
 * token the console page received at login and holds in memory only. A page on another site can
 * neither read that token nor send it.
 */
export function checkConsoleWrite(req: IncomingMessage, session: ConsoleSession): void {
  refuseCrossSite(req, false);
  const given = req.headers['x-csrf-token'];
  const a = createHash('sha256')
    .update(typeof given === 'string' ? given : '')
    .digest();
  const b = createHash('sha256').update(session.csrf).digest();
  if (typeof given !== 'string' || !timingSafeEqual(a, b)) throw new VolactError('CSRF_REFUSED');
}

/**
 * A login must come from the console's own page too (login CSRF: no other site may log a browser
 * in, even with a token of its own): the same checks as a change, but a request the user typed
 * or bookmarked (`Sec-Fetch-Site: none`) is let through. Both consoles call it.
 */
export function checkConsoleLogin(req: IncomingMessage): void {
  refuseCrossSite(req, true);
}

/** CROSS_SITE_REFUSED unless Sec-Fetch-Site says same-origin (or none, when allowed) and Origin names this host. */
function refuseCrossSite(req: IncomingMessage, allowNone: boolean): void {
  const site = req.headers['sec-fetch-site'];
  const origin = req.headers.origin;
  if (site !== undefined && site !== 'same-origin' && !(allowNone && site === 'none'))
    throw new VolactError('CROSS_SITE_REFUSED', { origin: String(origin ?? site).slice(0, 100) });
  if (origin === undefined) return;
  let host: string | undefined;
  try {
    host = origin === 'null' ? undefined : new URL(origin).host;
  } catch {
    host = undefined;
  }
  if (host === undefined || host !== req.headers.host)
    throw new VolactError('CROSS_SITE_REFUSED', { origin: origin.slice(0, 100) });
}

/** The console page's policy: its own scripts, styles, images and API only; no frames, no inline code. */
export const consoleCsp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('content-security-policy', consoleCsp);
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('cross-origin-opener-policy', 'same-origin');
  res.setHeader('cross-origin-resource-policy', 'same-origin');
}

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

type File = { body: Buffer; type: string; etag: string };

const NOT_BUILT = Buffer.from(
  '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>volact console</title></head>' +
    '<body><main><h1>The console is not built</h1><p>The web console\u2019s files are missing. ' +
    'Run <code>npm run build</code> in the volact checkout (or install a volact package that includes ' +
    'the console), then restart this server.</p><p lang="ja">コンソールのファイルがありません。' +
    '<code>npm run build</code> を実行してからサーバーを再起動してください。</p></main></body></html>',
);

/** Every file under `dir`, read once: the built console is a few hundred kilobytes. */
function readTree(dir: string): Map<string, File> {
  const files = new Map<string, File>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const st = statSync(path);
      if (st.isDirectory()) walk(path);
      else if (st.isFile() && st.size <= 10 * 1024 * 1024) {
        const body = readFileSync(path);
        const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`;
        files.set('/' + relative(dir, path).split(sep).join('/'), {
          body,
          type: types[extname(name).toLowerCase()] ?? 'application/octet-stream',
          etag,
        });
      }
    }
  };
  walk(dir);
  return files;
}

/**
 * Serves the built console under `prefix` (`/` or `/console/`): a known file as it is (assets
 * have content hashes in their names and may be cached; index.html never is), any other path
 * under the prefix as index.html (the page routes by its URL's hash), GET and HEAD only. Paths
 * are looked up in the set of files read at start, so no request can name a file outside `dir`.
 * When `dir` holds no index.html, a plain page says the console is not built. Returns false for
 * a path outside the prefix, for the caller's NOT_FOUND.
 */
export function consoleStatic(
  dir: string | undefined,
  prefix: string,
): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const files = dir && existsSync(join(dir, 'index.html')) ? readTree(dir) : new Map<string, File>();
  const index: File = files.get('/index.html') ?? {
    body: NOT_BUILT,
    type: types['.html']!,
    etag: '"not-built"',
  };
  const base = prefix.endsWith('/') ? prefix : prefix + '/';
  return (req, res, url) => {
    const path = url.pathname;
    if (path !== base.slice(0, -1) && !path.startsWith(base)) return false;
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    req.resume();
    if (!path.startsWith(base)) {
      // "/console" → "/console/": the page's relative asset paths need the slash
      res.writeHead(302, { location: base });
      res.end();
      return true;
    }
    const inside = '/' + path.slice(base.length);
    const file = files.get(inside) ?? (inside.startsWith('/assets/') ? undefined : index);
    setSecurityHeaders(res);
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found\n');
      return true;
    }
    const isIndex = file === index;
    res.setHeader('cache-control', isIndex ? 'no-store' : 'public, max-age=31536000, immutable');
    res.setHeader('etag', file.etag);
    if (!isIndex && req.headers['if-none-match'] === file.etag) {
      res.writeHead(304);
      res.end();
      return true;
    }
    res.writeHead(200, { 'content-type': file.type, 'content-length': file.body.length });
    res.end(req.method === 'HEAD' ? undefined : file.body);
    return true;
  };
}
