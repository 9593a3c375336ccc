/**
 * The OpenAPI description of the host console's API (console-routes.ts), served at
 * GET /api/openapi.json on the console listener. Every route needs the session cookie or
 * `Authorization: Bearer vht_…`; changes need the admin scope and, with the cookie, the
 * same-origin and CSRF checks (docs/protocol.md#the-host-console-api).
 */
import { bool, obj, openApiDocument, str, type ApiInfo, type Operation, type Schema } from '@volact/protocol';

const object = (description: string): Schema<unknown> => ({
  check: () => undefined,
  describe: () => ({ type: 'object', description }),
});
const int = (description: string, min: number, max: number) => ({
  description,
  schema: { type: 'integer', minimum: min, maximum: max },
});
const text = (description: string, values?: string[]) => ({
  description,
  schema: values ? { type: 'string', enum: values } : { type: 'string', maxLength: 100 },
});
const number: Schema<number> = { check: () => undefined, describe: () => ({ type: 'number' }) };
const settingsBody = obj({ retryMinutes: number, renewalMinutes: number, port: number });
const session = object('{ csrf, tokenId, name, scopes, expiresAt }: keep csrf in memory and send it as X-CSRF-Token');
const write = ['CROSS_SITE_REFUSED', 'CSRF_REFUSED', 'SESSION_EXPIRED'] as const;

const api: ApiInfo = {
  title: 'volact activation host: console API',
  description:
    "The host console's API, on its own HTTPS listener (--console-listen, default 127.0.0.1:1690). Log in with a host console token (volact host token create) at POST /api/session, which sets an HttpOnly SameSite=Strict cookie and answers a CSRF token; or send Authorization: Bearer vht_…. Reads need the read scope, changes the admin scope; a change made with the cookie needs the X-CSRF-Token header and a same-origin request. Every error is the Error body with a stable code (docs/errors.md).",
  tags: [
    { name: 'session', description: 'logging in and out of the console' },
    { name: 'host', description: "the host's state, machines, events and settings" },
  ],
  common: ['INTERNAL', 'TOO_MANY_CONNECTIONS'],
  bearer: 'a host console token, vht_T<10 hex>_<32 characters> (volact host token create)',
};

const operations: Record<string, Operation> = {
  'POST /api/session': {
    summary: 'log in with a console token: sets the session cookie, answers the CSRF token',
    tag: 'session',
    body: obj({ token: str({ min: 1, max: 200 }) }),
    response: session,
    status: 201,
    errors: ['TOKEN_INVALID', 'RATE_LIMITED', 'CROSS_SITE_REFUSED'],
  },
  'GET /api/session': {
    summary: 'the session of the cookie, after a reload',
    tag: 'session',
    response: session,
    errors: ['TOKEN_MISSING', 'SESSION_EXPIRED'],
  },
  'POST /api/session/end': {
    summary: 'log out (clears the cookie)',
    tag: 'session',
    response: object('{ ended: true }'),
    errors: ['CROSS_SITE_REFUSED', 'CSRF_REFUSED'],
  },
  'GET /api/status': {
    summary: "the host's status, as slmgr -dlv shows it",
    tag: 'host',
    scope: 'read',
    response: object('the admin socket GET /status'),
    errors: ['SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'GET /api/overview': {
    summary: 'count, thresholds, machines by state, keys, DNS and log state',
    tag: 'host',
    scope: 'read',
    response: object('the overview'),
    errors: ['SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'GET /api/count-history': {
    summary: 'the count sampled hourly over 30 or 90 days, the count now last',
    tag: 'host',
    scope: 'read',
    query: { days: text('30 or 90 (default 30)', ['30', '90']) },
    response: object('{ days, points: [{ at, count }], thresholds }'),
    errors: ['BAD_REQUEST', 'SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'GET /api/machines': {
    summary: 'machines, one page at a time (keyset paging: pass nextCursor back as cursor)',
    tag: 'host',
    scope: 'read',
    query: {
      limit: int('page size (default 50)', 1, 200),
      cursor: text('nextCursor of the previous page'),
      q: text('a machine ID prefix or part of a machine name'),
      state: text('console state', ['licensed', 'grace', 'notification', 'unlicensed']),
      edition: int('edition number', 0, 1_000_000),
      kind: text('edition kind', ['client', 'server']),
      vm: text('virtual machines only, or none', ['true', 'false']),
      seenWithinDays: int('seen in the last N days', 1, 3650),
      notSeenForDays: int('not seen for N days', 1, 3650),
      fingerprints: text('several: seen with several fingerprints (cloned images)', ['several']),
      sort: text('sort column (default lastSeen)', ['lastSeen', 'firstSeen', 'name', 'requests']),
      order: text('default desc', ['desc', 'asc']),
    },
    response: object('{ machines, nextCursor, total }'),
    errors: ['BAD_REQUEST', 'SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'GET /api/events': {
    summary: 'events (12290), newest first, one page at a time',
    tag: 'host',
    scope: 'read',
    query: {
      since: text('ISO time, inclusive'),
      until: text('ISO time, exclusive'),
      machine: text('one machine ID'),
      outcome: text('outcome', [
        'activated',
        'renewed',
        'countInsufficient',
        'editionNotCovered',
        'clockSkew',
        'notActivated',
      ]),
      limit: int('page size (default 100)', 1, 1000),
      cursor: text('nextCursor of the previous page'),
    },
    response: object('{ events, nextCursor }'),
    errors: ['BAD_REQUEST', 'SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'GET /api/log-verification': {
    summary: "the last verification of the host's tamper-evident log",
    tag: 'host',
    scope: 'read',
    response: object('{ state, checkedAt, records, problem? }'),
    errors: ['SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'POST /api/log-verification': {
    summary: 'verify the log now (in the background)',
    tag: 'host',
    scope: 'admin',
    status: 202,
    response: object('the state, running'),
    errors: [...write, 'RATE_LIMITED'],
  },
  'GET /api/dns': {
    summary: 'DNS publishing: settings, records published, events',
    tag: 'host',
    scope: 'read',
    query: { limit: int('DNS events to list (default 100)', 1, 1000) },
    response: object('the admin socket GET /dns'),
    errors: ['BAD_REQUEST', 'SESSION_EXPIRED', 'RATE_LIMITED'],
  },
  'POST /api/dns': {
    summary: 'turn DNS publishing on or off',
    tag: 'host',
    scope: 'admin',
    body: obj({ enabled: bool }),
    response: object('the DNS status'),
    errors: [...write, 'RATE_LIMITED'],
  },
  'POST /api/settings': {
    summary: 'change intervals and port, with the range checks of slmgr -sai/-sri/-sprt',
    tag: 'host',
    scope: 'admin',
    body: settingsBody,
    response: object('the new status'),
    errors: [...write, 'VALUE_OUT_OF_RANGE', 'PORT_UNAVAILABLE', 'RATE_LIMITED'],
  },
  'GET /api/openapi.json': { summary: 'this description (OpenAPI 3.1)', tag: 'host', response: object('OpenAPI 3.1') },
};

/** The document, made once. */
export const consoleApiDocument = openApiDocument(api, operations);
