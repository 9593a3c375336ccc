import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  VolactError,
  adminCatalogSchema,
  consoleSessionEndedSchema,
  consoleSessionSchema,
  keyHostListSchema,
  obj,
  str,
  type Infer,
} from '@volact/protocol';
import {
  ConsoleSessions,
  checkConsoleLogin,
  checkConsoleWrite,
  consoleStatic,
  endedSessionCookie,
  sessionCookie,
  type ConsoleSession,
} from '@volact/io';
import type { Authority } from './authority.js';
import type { Route } from './http.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenScope } from './store.js';

/**
 * The authority's web console on the server side: login with an admin token into a session held
 * in memory behind an HttpOnly cookie, the cookie accepted by every admin route in place of the
 * bearer token (same scopes, re-checked against the token row on each request, changes only
 * with the same-origin and CSRF checks), two reads the console's pages need, and the built page
 * itself under /console/.
 */

/** Where the console's sessions live and whether its cookie is marked Secure (TLS, or a TLS proxy in front). */
export type ConsoleWeb = { sessions: ConsoleSessions; secure: boolean };

/** What the server is told about its console: TLS terminated by a proxy; where the built page is (tests). */
export type ConsoleOptions = { behindTlsProxy?: boolean; consoleDir?: string };

export const consoleLoginSchema = obj({ token: str({ min: 1, max: 200 }) });

const address = (req: IncomingMessage) => req.socket.remoteAddress ?? '?';

/** Who called: a bearer token's ID and scopes, or the token a console session was opened with. */
export type Caller = { id: string; scopes: TokenScope[] };

/**
 * Authenticates an admin request. A bearer token wins and behaves exactly as it always did;
 * without one, the session cookie: the session must be open, its token still live (a revoked
 * token ends its sessions at once, on every node), and a change must pass checkConsoleWrite.
 */
export async function authenticateAdmin(
  authority: Authority,
  web: ConsoleWeb,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<Caller> {
  if (req.headers.authorization !== undefined || !ConsoleSessions.hasCookie(req))
    return authority.authenticate(req.headers.authorization);
  const { session, token } = await liveSession(authority, web, req, res);
  if (req.method !== 'GET' && req.method !== 'HEAD') checkConsoleWrite(req, session);
  return token;
}

/** The open session of the request's cookie and its token as stored now; SESSION_EXPIRED (cookie cleared) else. */
async function liveSession(
  authority: Authority,
  web: ConsoleWeb,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<{ session: ConsoleSession; token: Caller & { name: string } }> {
  const session = web.sessions.find(req);
  const token = session && (await authority.liveToken(session.identity.tokenId));
  if (!session || !token) {
    if (session) web.sessions.end(session.id);
    res.setHeader('set-cookie', endedSessionCookie(web.secure));
    throw new VolactError('SESSION_EXPIRED');
  }
  return { session, token };
}

const answer = (session: ConsoleSession, token: Caller & { name: string }) => ({
  csrf: session.csrf,
  tokenId: token.id,
  name: token.name,
  scopes: token.scopes,
  expiresAt: session.expiresAt,
});

/** Login, the session as the page reloads it, and logout. */
export function consoleSessionRoutes(
  authority: Authority,
  web: ConsoleWeb,
  limiter?: RateLimiter,
): Record<string, Route> {
  return {
    'POST /v1/console/session': {
      summary:
        'console login: an admin token (vat_…) in, a session cookie (HttpOnly, SameSite=Strict) and its CSRF token out (rate-limited per address)',
      body: consoleLoginSchema,
      status: 201,
      response: consoleSessionSchema,
      errors: ['TOKEN_INVALID', 'RATE_LIMITED', 'CROSS_SITE_REFUSED'],
      handle: async ({ req, res }, body: Infer<typeof consoleLoginSchema>) => {
        checkConsoleLogin(req);
        // every attempt counts, before the token is looked at: guessing is as slow as the limit
        await limiter?.checkLogin(address(req));
        const checked = await authority.authenticate(`Bearer ${body.token}`);
        // the name for the page (authenticate checked the secret); revoked in between: refused like a wrong token
        const token = await authority.liveToken(checked.id);
        if (!token) throw new VolactError('TOKEN_INVALID');
        const session = web.sessions.create({ tokenId: token.id, name: token.name, scopes: token.scopes });
        res.setHeader('set-cookie', sessionCookie(session, web.secure));
        res.setHeader('cache-control', 'no-store');
        return answer(session, token);
      },
    },
    'GET /v1/console/session': {
      summary:
        "the console session of the request's cookie (a reloaded page keeps its login and gets its CSRF token again)",
      response: consoleSessionSchema,
      errors: ['TOKEN_MISSING', 'SESSION_EXPIRED'],
      handle: async ({ req, res }) => {
        if (!ConsoleSessions.hasCookie(req)) throw new VolactError('TOKEN_MISSING');
        const { session, token } = await liveSession(authority, web, req, res);
        res.setHeader('cache-control', 'no-store');
        return answer(session, token);
      },
    },
    'POST /v1/console/session/end': {
      summary: 'console logout: ends the session and clears its cookie',
      response: consoleSessionEndedSchema,
      errors: ['CSRF_REFUSED', 'CROSS_SITE_REFUSED'],
      handle: ({ req, res }) => {
        const session = web.sessions.find(req);
        if (session) {
          checkConsoleWrite(req, session);
          web.sessions.end(session.id);
        }
        res.setHeader('set-cookie', endedSessionCookie(web.secure));
        return { ended: true };
      },
    },
  };
}

/** The reads the console's catalog and keys pages need beyond the admin API's lists. */
export function consoleReadRoutes(authority: Authority): Record<string, Route> {
  return {
    'GET /v1/admin/catalog': {
      summary: 'the current catalog: products, editions with their setup keys, product groups',
      scope: 'read',
      response: adminCatalogSchema,
      errors: ['AUTHORITY_NOT_READY'],
      handle: () => authority.currentCatalog(),
    },
    'GET /v1/admin/hosts': {
      summary: 'the hosts holding slots of a host or datacenter key (?key=ID), most recently activated first',
      scope: 'read',
      query: { key: { description: 'the key ID (GET /v1/admin/host-keys); required', schema: { type: 'string' } } },
      response: keyHostListSchema,
      errors: ['BAD_REQUEST', 'REQUEST_UNKNOWN'],
      handle: async ({ url }) => {
        const key = url.searchParams.get('key');
        if (key === null || !/^[A-Za-z0-9._:-]{1,64}$/.test(key))
          throw new VolactError('BAD_REQUEST', { field: 'key', problem: 'must be a key ID (GET /v1/admin/host-keys)' });
        return { hosts: await authority.keyHosts(key) };
      },
    },
  };
}

/** The built console (package @volact/console), or undefined when it is not installed. */
export function consoleDir(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve('@volact/console/package.json')), 'dist', 'authority');
  } catch {
    return undefined;
  }
}

/** The router's fallback: `/` sends a browser to the console, `/console/…` serves it (a plain page when not built). */
export function consoleFallback(
  dir: string | undefined,
): (req: IncomingMessage, res: ServerResponse, url: URL) => boolean {
  const serve = consoleStatic(dir, '/console/');
  return (req, res, url) => {
    if (url.pathname === '/' && (req.method === 'GET' || req.method === 'HEAD')) {
      req.resume();
      res.writeHead(302, { location: '/console/' });
      res.end();
      return true;
    }
    return serve(req, res, url);
  };
}
