import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  VolactError,
  bool,
  obj,
  optional,
  str,
  vmActivateRequestSchema,
  vmUuidSchema,
  type ErrorCode,
} from '@volact/protocol';
import {
  guardConnections,
  readJson,
  router,
  sendJson,
  serverTimeouts,
  validate,
  type ConnectionLimits,
} from '@volact/io';
import type { HypervisorAgent, RequestSource } from './agent.js';
import { plainAddress, type NeighbourLookup } from './neighbours.js';

const ACTIVATE_BODY_LIMIT = 4096;

/**
 * Requests a minute one address may make on the guest channel. A guest asks once a day (and once
 * an hour after a failure); a guest in a loop, or one flooding the agent, gets 429 RATE_LIMITED
 * with Retry-After and writes no event, so it cannot fill hypervisor.db.
 */
export const GUEST_REQUESTS_PER_MINUTE = 30;

/** Fixed one-minute windows per address, in memory (one agent process serves its guests). */
function perAddressLimit(now: () => number, limit: number, log: (line: string) => void) {
  let window = 0;
  const hits = new Map<string, number>();
  return (address: string): VolactError | undefined => {
    const w = Math.floor(now() / 60_000);
    if (w !== window) {
      window = w;
      hits.clear();
    }
    const n = (hits.get(address) ?? 0) + 1;
    hits.set(address, n);
    if (n <= limit) return undefined;
    if (n === limit + 1)
      log(JSON.stringify({ level: 'warn', msg: 'guest channel: rate limit reached', address, limit }));
    return new VolactError('RATE_LIMITED', {
      what: `address ${address}`,
      limit,
      retryAfter: Math.max(1, Math.ceil(((w + 1) * 60_000 - now()) / 1000)),
    });
  };
}

/** Codes of a request the guest channel could not read: the guest's data, never the agent's fault. */
const unreadable = new Set<ErrorCode>([
  'UNSUPPORTED_MEDIA_TYPE',
  'BODY_TOO_LARGE',
  'BAD_ENCODING',
  'BAD_JSON',
  'BAD_REQUEST',
  'REQUEST_INCOMPLETE',
]);

/** The VM UUID of a body that failed validation, when it names one: the event says which VM sent it. */
function uuidOf(body: unknown): string | undefined {
  const v = (body as { vmUuid?: unknown } | null)?.vmUuid;
  return typeof v === 'string' && vmUuidSchema.check(v, 'vmUuid') === undefined ? v : undefined;
}

/**
 * POST /v1/activate on the guest channel: not activated (503), unreadable (4xx), then the
 * decision (guest-decision.ts). Every request is recorded; a failure to record is a 500 and
 * the guest gets no grant the agent has not written down.
 */
async function activate(
  agent: HypervisorAgent,
  neighbours: NeighbourLookup,
  limited: (address: string) => VolactError | undefined,
  req: IncomingMessage,
  res: ServerResponse,
) {
  const raw = req.socket.remoteAddress;
  const address = raw ? plainAddress(raw) : null;
  const tooMany = limited(address ?? '');
  if (tooMany) {
    req.resume();
    throw tooMany;
  }
  const mac = address ? ((await neighbours(address).catch(() => undefined)) ?? null) : null;
  const src: RequestSource = { address, mac };
  let body: unknown;
  let readError: VolactError | undefined;
  try {
    body = await readJson(req, ACTIVATE_BODY_LIMIT);
  } catch (err) {
    if (!(err instanceof VolactError) || !unreadable.has(err.code)) throw err;
    readError = err;
  }
  if (!agent.activated) {
    const err = new VolactError('HYPERVISOR_NOT_ACTIVATED');
    agent.recordRefused('invalidHost', err, src, uuidOf(body));
    throw err;
  }
  if (readError) {
    agent.recordRefused('invalidData', readError, src);
    throw readError;
  }
  let request;
  try {
    request = validate(vmActivateRequestSchema, body);
  } catch (err) {
    if (err instanceof VolactError) agent.recordRefused('invalidData', err, src, uuidOf(body));
    throw err;
  }
  const answer = await agent.activateGuest(request, src);
  if (answer.outcome !== 'success') throw answer.error;
  sendJson(res, 200, answer.body);
}

/**
 * The guest channel: plain HTTP on a link-local address of the guest bridge. Which VM may ask is
 * decided per request (inventory and source MAC), so there is no network filter here.
 */
export function guestServer(
  agent: HypervisorAgent,
  neighbours: NeighbourLookup,
  log: (line: string) => void,
  limits: ConnectionLimits,
  now: () => number = Date.now,
  perMinute = GUEST_REQUESTS_PER_MINUTE,
): Server {
  const limited = perAddressLimit(now, perMinute, log);
  const server = createServer(
    serverTimeouts(limits),
    router(
      {
        'GET /v1/health': (_req, res) => sendJson(res, 200, { ok: true, activated: agent.activated }),
        'POST /v1/activate': (req, res) => activate(agent, neighbours, limited, req, res),
      },
      log,
    ),
  );
  guardConnections(server, limits);
  return server;
}

const keySchema = obj({ key: str({ min: 1, max: 64 }) });
const removeSchema = obj({ which: str({ min: 1, max: 64 }) });
const activateSchema = obj({ force: optional(bool) });
const confirmSchema = obj({ confirmationId: str({ min: 1, max: 1000 }) });

function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VolactError('BAD_REQUEST', { field: name, problem: 'must be a non-negative integer' });
  return n;
}

/** The admin listener, on a Unix socket in the 0700 state directory: local administrators only. */
export function adminServer(agent: HypervisorAgent, log: (line: string) => void, limits: ConnectionLimits): Server {
  const server = createServer(
    serverTimeouts(limits),
    router(
      {
        'GET /status': async (_req, res) => sendJson(res, 200, await agent.status()),
        'POST /keys': async (req, res) => {
          const { key } = validate(keySchema, await readJson(req));
          sendJson(res, 200, agent.installKey(key));
        },
        'POST /keys/remove': async (req, res) => {
          const { which } = validate(removeSchema, await readJson(req));
          sendJson(res, 200, { removed: agent.uninstallKey(which) });
        },
        'POST /activate': async (req, res) => {
          const { force } = validate(activateSchema, await readJson(req));
          sendJson(res, 200, { activated: await agent.activate(force ?? false) });
        },
        'GET /offline/installation-ids': (_req, res) => sendJson(res, 200, { keys: agent.installationIds() }),
        'POST /offline/confirm': async (req, res) => {
          const { confirmationId } = validate(confirmSchema, await readJson(req));
          sendJson(res, 200, agent.applyConfirmation(confirmationId));
        },
        'GET /guests': (_req, res) => sendJson(res, 200, agent.guests()),
        'GET /events': (_req, res, url) =>
          sendJson(
            res,
            200,
            agent.events({
              since: intParam(url, 'since'),
              vmUuid: url.searchParams.get('vm')?.toLowerCase() ?? undefined,
              outcome: url.searchParams.get('outcome') ?? undefined,
              limit: intParam(url, 'limit'),
            }),
          ),
      },
      log,
    ),
  );
  guardConnections(server, { ...limits, perAddress: 0, total: Math.min(limits.total, 256) });
  return server;
}
