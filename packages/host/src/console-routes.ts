import type { IncomingMessage, ServerResponse } from 'node:http';
import type Database from 'better-sqlite3';
import { VolactError, literal, obj, optional, str } from '@volact/protocol';
import {
  ConsoleSessions,
  checkConsoleLogin,
  checkConsoleWrite,
  endedSessionCookie,
  readJson,
  sendJson,
  sessionCookie,
  validate,
  type ConsoleSession,
  type Handler,
  type Log,
} from '@volact/io';
import type { Host } from './host.js';
import type { DnsPublisher } from './dns-publisher.js';
import { ConsoleTokens, type ConsoleTokenIdentity } from './console-tokens.js';
import {
  countHistory,
  eventFilter,
  eventPage,
  intIn,
  machineFilter,
  machinePage,
  machineSummary,
} from './console-queries.js';
import { eventRow } from './host-store.js';
import type { LogVerifier } from './console-log-state.js';
import { consoleApiDocument } from './console-api.js';

/** Failed logins (and bad bearer tokens) from one address in a minute before 429 RATE_LIMITED. */
export const LOGIN_FAILURES_PER_MINUTE = 10;
/** Machines whose grant runs out within this many days are "expiring soon" on the overview. */
export const EXPIRING_SOON_DAYS = 15;

/** Counts failed logins per address, per minute; at most 10,000 addresses are remembered. */
export class LoginLimiter {
  private readonly failures = new Map<string, { since: number; n: number }>();
  constructor(private readonly now: () => number) {}

  check(address: string): void {
    const f = this.failures.get(address);
    const now = this.now();
    if (f && now - f.since < 60_000 && f.n >= LOGIN_FAILURES_PER_MINUTE)
      throw new VolactError('RATE_LIMITED', {
        what: address,
        limit: LOGIN_FAILURES_PER_MINUTE,
        retryAfter: Math.max(1, Math.ceil((f.since + 60_000 - now) / 1000)),
      });
  }

  failed(address: string): void {
    const now = this.now();
    const f = this.failures.get(address);
    if (f && now - f.since < 60_000) f.n++;
    else {
      if (this.failures.size >= 10_000) this.failures.clear();
      this.failures.set(address, { since: now, n: 1 });
    }
  }
}

export type ConsoleDeps = {
  host: Host;
  db: Database.Database;
  tokens: ConsoleTokens;
  sessions: ConsoleSessions;
  /** The admin socket's handlers (http.ts adminRoutes): the console calls them, never its own copies. */
  admin: Record<string, Handler>;
  dns: DnsPublisher;
  logState: LogVerifier;
  now: () => number;
  limiter: LoginLimiter;
  log: Log;
};

type Caller = { identity: ConsoleTokenIdentity; session?: ConsoleSession };

const loginSchema = obj({ token: str({ min: 1, max: 200 }) });
const tokenCreateSchema = obj({ name: str({ min: 1, max: 100 }), scope: optional(literal('read', 'admin')) });
const tokenRevokeSchema = obj({ id: str({ min: 1, max: 40 }) });

const addressOf = (req: IncomingMessage) => req.socket.remoteAddress ?? 'unknown';

/**
 * Who calls: `Authorization: Bearer vht_…` (scripts), or the session cookie (the console page),
 * whose token is checked again on every request, so a revoked token's sessions end at once.
 */
export function caller(req: IncomingMessage, d: ConsoleDeps, res?: ServerResponse): Caller {
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const address = addressOf(req);
    d.limiter.check(address);
    const m = /^Bearer (\S{1,200})$/.exec(auth);
    try {
      if (!m) throw new VolactError('TOKEN_INVALID');
      return { identity: d.tokens.check(m[1]!) };
    } catch (err) {
      d.limiter.failed(address);
      throw err;
    }
  }
  const session = d.sessions.find(req);
  const identity = session && d.tokens.current(session.identity.tokenId);
  if (!session || !identity) {
    if (!ConsoleSessions.hasCookie(req, d.sessions.cookie)) throw new VolactError('TOKEN_MISSING');
    // ended (idle, logged out, host restarted) or its token revoked: the browser drops the cookie
    if (session) d.sessions.end(session.id);
    res?.setHeader('set-cookie', endedSessionCookie(true, d.sessions.cookie));
    throw new VolactError('SESSION_EXPIRED');
  }
  return { identity, session };
}

/** A change: the admin scope, and with the cookie, the same-origin and CSRF checks. */
function writer(req: IncomingMessage, d: ConsoleDeps, res: ServerResponse): Caller {
  const c = caller(req, d, res);
  if (!c.identity.scopes.includes('admin'))
    throw new VolactError('TOKEN_SCOPE', { scopes: c.identity.scopes.join(','), needed: 'admin' });
  if (c.session) checkConsoleWrite(req, c.session);
  return c;
}

const sessionBody = (s: ConsoleSession) => ({
  csrf: s.csrf,
  tokenId: s.identity.tokenId,
  name: s.identity.name,
  scopes: s.identity.scopes,
  expiresAt: s.expiresAt, // milliseconds since 1970, as the authority's console session says it
});

const read =
  (d: ConsoleDeps, h: Handler): Handler =>
  (req, res, url) => {
    caller(req, d, res);
    return h(req, res, url);
  };
const write =
  (d: ConsoleDeps, h: Handler): Handler =>
  async (req, res, url) => {
    const { identity, session } = writer(req, d, res);
    await h(req, res, url);
    // the host log chains what changed; the journal says which token changed it
    d.log.info(
      {
        tokenId: identity.tokenId,
        tokenName: identity.name,
        via: session ? 'session' : 'bearer',
        route: `${req.method} ${url.pathname}`,
      },
      'console change',
    );
  };

function sessionRoutes(d: ConsoleDeps): Record<string, Handler> {
  return {
    'POST /api/session': async (req, res) => {
      // the console listener keeps no access log: the journal says who logged in, and who failed
      // (the address and the code; never the token)
      const address = addressOf(req);
      let identity: ConsoleTokenIdentity;
      try {
        checkConsoleLogin(req);
        d.limiter.check(address);
        const { token } = validate(loginSchema, await readJson(req, 1024));
        try {
          identity = d.tokens.check(token);
        } catch (err) {
          d.limiter.failed(address);
          throw err;
        }
      } catch (err) {
        d.log.warn({ peer: address, code: (err as VolactError).code ?? 'INTERNAL' }, 'console login refused');
        throw err;
      }
      const session = d.sessions.create(identity);
      d.log.info({ peer: address, tokenId: identity.tokenId, tokenName: identity.name }, 'console login');
      res.setHeader('set-cookie', sessionCookie(session, true, d.sessions.cookie));
      sendJson(res, 201, sessionBody(session));
    },
    'GET /api/session': (req, res) => {
      const c = caller(req, d, res);
      if (!c.session) throw new VolactError('SESSION_EXPIRED');
      sendJson(res, 200, sessionBody({ ...c.session, identity: c.identity }));
    },
    'POST /api/session/end': (req, res) => {
      req.resume();
      const session = d.sessions.find(req);
      if (session) {
        checkConsoleWrite(req, session);
        d.sessions.end(session.id);
      }
      res.setHeader('set-cookie', endedSessionCookie(true, d.sessions.cookie));
      sendJson(res, 200, { ended: true });
    },
  };
}

/** Every route of the console's API (under /api/); the rest of the listener serves the page. */
export function consoleRoutes(d: ConsoleDeps): Record<string, Handler> {
  const a = (key: string) => d.admin[key]!;
  return {
    ...sessionRoutes(d),
    'GET /api/status': read(d, a('GET /status')),
    // the socket's handler takes any limit from a local administrator; the console's is a page size
    'GET /api/dns': read(d, (req, res, url) => {
      intIn(url, 'limit', 1, 1000);
      return a('GET /dns')(req, res, url);
    }),
    'POST /api/settings': write(d, a('POST /settings')),
    'POST /api/dns': write(d, a('POST /dns')),
    'GET /api/overview': read(d, (_req, res) => sendJson(res, 200, overview(d))),
    'GET /api/count-history': read(d, (_req, res, url) => {
      const days = url.searchParams.get('days') ?? '30';
      if (days !== '30' && days !== '90')
        throw new VolactError('BAD_REQUEST', { field: 'days', problem: 'must be 30 or 90' });
      const s = d.host.status();
      sendJson(res, 200, {
        days: Number(days),
        points: countHistory(d.db, d.now(), Number(days), s.currentCount),
        thresholds: s.thresholds,
      });
    }),
    'GET /api/machines': read(d, (_req, res, url) =>
      sendJson(res, 200, machinePage(d.db, machineFilter(url), d.now(), d.host.catalogEditions())),
    ),
    'GET /api/events': read(d, (_req, res, url) => sendJson(res, 200, eventPage(d.db, eventFilter(url), eventRow))),
    'GET /api/log-verification': read(d, (_req, res) => sendJson(res, 200, d.logState.state)),
    'POST /api/log-verification': write(d, (req, res) => {
      req.resume();
      void d.logState.start();
      sendJson(res, 202, d.logState.state);
    }),
    'GET /api/openapi.json': (_req, res) => sendJson(res, 200, consoleApiDocument),
  };
}

/**
 * The machine summary of the overview scans the machine table, so it is kept for a while: for a
 * hundred times as long as the last scan took, at least 2 s and at most a minute. A small host's
 * tiles follow its gauge within seconds; at a million machines (a 0.4 s scan) the overview costs
 * about 1 % of a core however many consoles poll it.
 */
type Held = { made: number; now: number; keepMs: number; value: ReturnType<typeof machineSummary> };
const summaries = new WeakMap<Database.Database, Held>();

function summary(db: Database.Database, now: number): Held['value'] {
  const held = summaries.get(db);
  // kept by the process's own time (what it costs is CPU), and made again when the host's clock
  // (the one states are judged by, a test clock in tests) moved by more than a minute
  const start = performance.now();
  if (held && start - held.made < held.keepMs && Math.abs(now - held.now) < 60_000) return held.value;
  const value = machineSummary(db, now, EXPIRING_SOON_DAYS);
  const keepMs = Math.min(60_000, Math.max(2_000, 100 * (performance.now() - start)));
  summaries.set(db, { made: start, now, keepMs, value });
  return value;
}

function overview(d: ConsoleDeps) {
  const now = d.now();
  const s = d.host.status();
  const machines = summary(d.db, now);
  const st = d.dns.status;
  const failing = d.dns.failing as unknown;
  // the newest DNS event of each domain: a failure there is its last error until a success
  const latest = new Map(d.dns.events(200).map((e) => [e.domain, e]));
  const domains = [st.domain, ...st.extraDomains.map((e) => e.domain)]
    .filter((x): x is string => typeof x === 'string')
    .map((domain) => {
      const published = st.published.find((p) => p.domain === domain);
      const last = latest.get(domain);
      return {
        domain,
        server: published?.server ?? st.server,
        published: published !== undefined,
        lastPublishedAt: published?.at ?? null,
        lastError: last?.code ? { at: last.at, code: last.code, message: last.message } : null,
      };
    });
  const dns = {
    enabled: st.enabled,
    domains,
    consecutiveFailures: typeof failing === 'number' ? failing : failing ? 1 : 0,
  };
  return {
    now: new Date(now).toISOString(),
    currentCount: s.currentCount,
    thresholds: s.thresholds,
    countWindowDays: s.countWindowDays,
    host: { activated: s.activated, hostName: s.hostName, hostId: s.hostId, keys: s.keys },
    machines,
    dns,
    log: d.logState.state,
  };
}

/** The admin socket's token routes (`volact host token …`): create, list, revoke. */
export function tokenAdminRoutes(
  tokens: ConsoleTokens,
  sessions: ConsoleSessions,
  now: () => number,
  consoleUrl: () => string | null,
) {
  return {
    'POST /console-tokens': async (req: IncomingMessage, res: ServerResponse) => {
      const { name, scope } = validate(tokenCreateSchema, await readJson(req));
      sendJson(res, 201, { ...tokens.create(name, scope ?? 'read', now()), consoleUrl: consoleUrl() });
    },
    'GET /console-tokens': (_req: IncomingMessage, res: ServerResponse) => sendJson(res, 200, tokens.list()),
    'POST /console-tokens/revoke': async (req: IncomingMessage, res: ServerResponse) => {
      const { id } = validate(tokenRevokeSchema, await readJson(req));
      const revoked = tokens.revoke(id, now());
      sessions.endToken(id);
      sendJson(res, 200, revoked);
    },
  } satisfies Record<string, Handler>;
}
