import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { VolactError, vmActivateRequestSchema, vmUuidSchema, type ErrorCode } from '@volact/protocol';
import { keyRoutes } from '@volact/host';
import {
  guardConnections,
  intParam,
  readJson,
  router,
  sendJson,
  serverTimeouts,
  validate,
  type ConnectionLimits,
  type Log,
  type RequestObserver,
} from '@volact/io';
import type { HypervisorAgent, RequestSource } from './agent.js';
import type { GuestInterfaces } from './bridge.js';
import { plainAddress, type NeighbourLookup } from './neighbours.js';

const ACTIVATE_BODY_LIMIT = 4096;

/**
 * Requests a minute one guest (one MAC) may make on the guest channel, and all guests together. A
 * guest asks once a day (and once an hour after a failure); a guest in a loop, or one flooding
 * the agent, gets 429 RATE_LIMITED with Retry-After and writes no event, so it cannot fill
 * hypervisor.db. A thousand guests renewing at once stay far below the total.
 */
export const GUEST_REQUESTS_PER_MINUTE = 30;
export const ALL_GUEST_REQUESTS_PER_MINUTE = 6000;

/** Fixed one-minute windows per caller and in all, in memory (one agent process serves its guests). */
function callerLimit(now: () => number, limit: number, total: number, log: Log) {
  let window = 0;
  let all = 0;
  const hits = new Map<string, number>();
  return (caller: string): VolactError | undefined => {
    const w = Math.floor(now() / 60_000);
    if (w !== window) {
      window = w;
      all = 0;
      hits.clear();
    }
    const n = (hits.get(caller) ?? 0) + 1;
    hits.set(caller, n);
    all++;
    const over = n > limit ? { what: caller, limit } : all > total ? { what: 'all guests', limit: total } : undefined;
    if (!over) return undefined;
    if (n === limit + 1 || all === total + 1) log.warn({ ...over }, 'guest channel: rate limit reached');
    return new VolactError('RATE_LIMITED', {
      ...over,
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
  src: RequestSource,
  limited: (caller: string) => VolactError | undefined,
  req: IncomingMessage,
  res: ServerResponse,
) {
  // per MAC, which a guest cannot change (anti-spoofing), not per address, of which it may take many
  const tooMany = limited(src.mac ?? src.address ?? '');
  if (tooMany) {
    req.resume();
    throw tooMany;
  }
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
 * The caller of a request, when it asks from a guest bridge: its address and the MAC the
 * neighbour table learnt on that bridge. Linux accepts a packet for the agent's address on any
 * interface, so a machine on another network with a route to it would otherwise be heard.
 */
async function guestOf(
  req: IncomingMessage,
  neighbours: NeighbourLookup,
  guestInterfaces: Pick<GuestInterfaces, 'has'>,
): Promise<RequestSource | undefined> {
  const raw = req.socket.remoteAddress;
  if (!raw) return undefined;
  const address = plainAddress(raw);
  const n = await neighbours(address).catch(() => undefined);
  return n && (await guestInterfaces.has(n.device)) ? { address, mac: n.mac } : undefined;
}

/**
 * The guest channel: plain HTTP on a link-local address of the guest bridge(s), `guestInterfaces`.
 * A request from anywhere else is not answered at all: the connection is closed, nothing is
 * recorded, and the caller sees no agent (a physical machine's "not a virtual machine"). Which VM
 * may ask is then decided per request (inventory and source MAC). `observe` hears of every
 * answered request (the access log).
 */
export function guestServer(
  agent: HypervisorAgent,
  neighbours: NeighbourLookup,
  guestInterfaces: Pick<GuestInterfaces, 'has'>,
  log: Log,
  limits: ConnectionLimits,
  now: () => number = Date.now,
  perMinute = GUEST_REQUESTS_PER_MINUTE,
  allPerMinute = ALL_GUEST_REQUESTS_PER_MINUTE,
  observe?: RequestObserver,
): Server {
  const limited = callerLimit(now, perMinute, allPerMinute, log);
  const sources = new WeakMap<IncomingMessage, RequestSource>();
  const routes = router(
    {
      'GET /v1/health': (_req, res) => sendJson(res, 200, { ok: true, activated: agent.activated }),
      'POST /v1/activate': (req, res) => activate(agent, sources.get(req)!, limited, req, res),
    },
    log,
    observe,
  );
  const server = createServer(serverTimeouts(limits), (req, res) => {
    guestOf(req, neighbours, guestInterfaces).then(
      (src) => {
        if (!src) {
          req.socket.destroy();
          return;
        }
        sources.set(req, src);
        return routes(req, res);
      },
      () => req.socket.destroy(),
    );
  });
  guardConnections(server, limits);
  return server;
}

/** The admin listener, on a Unix socket in the 0700 state directory: local administrators only. */
export function adminServer(agent: HypervisorAgent, log: Log, limits: ConnectionLimits): Server {
  const server = createServer(
    serverTimeouts(limits),
    router(
      {
        'GET /status': async (_req, res) => sendJson(res, 200, await agent.status()),
        ...keyRoutes(agent),
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
