import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import {
  VolactError,
  adminSchemas,
  errorBody,
  bulkConfirmationRequestSchema,
  hostActivationRequestSchema,
  directoryActivationRequestSchema,
  increaseRequestSchema,
  increaseStatusSchema,
  makActivationRequestSchema,
  offlineConfirmationRequestSchema,
  publicKeyToPem,
  authorityHealthSchema,
  readyAnswerSchema,
  rootAnswerSchema,
  catalogAnswerSchema,
  offlineBundleSchema,
  hostActivationAnswerSchema,
  directoryActivationAnswerSchema,
  makActivationAnswerSchema,
  confirmedSchema,
  increaseFiledSchema,
  increaseRecordSchema,
  hostKeyListSchema,
  issuedHostKeySchema,
  issuedDatacenterKeySchema,
  makListSchema,
  issuedMakSchema,
  increaseListSchema,
  releasedSchema,
  bulkConfirmationAnswerSchema,
  type ErrorCode,
  type Infer,
  type QueryParam,
  type Root,
  type Schema,
} from '@volact/protocol';
import {
  defaultConnectionLimits,
  guardConnections,
  readJson,
  router,
  sendJson,
  serverTimeouts,
  validate,
  type ConnectionLimits,
  type Handler,
  type Log,
  requestId,
  silentLog,
  type RequestObserver,
  ConsoleSessions,
} from '@volact/io';
import type { Authority } from './authority.js';
import { confirmErrors, issueErrors, keyErrors, openApi, slotErrors } from './api-description.js';
import type { RateLimiter } from './rate-limiter.js';
import type { TokenScope } from './store.js';
import {
  authenticateAdmin,
  consoleDir,
  consoleFallback,
  consoleReadRoutes,
  consoleSessionRoutes,
  type ConsoleOptions,
  type ConsoleWeb,
} from './console-routes.js';
import { adminTokenRoutes } from './token-routes.js';
import { usageRoutes } from './usage-routes.js';

export type Ctx = { req: IncomingMessage; res: ServerResponse; url: URL; actor: string; log: Log };

/**
 * One route: what it is for, who may call it (`scope`: a bearer token with that scope, or
 * `admin`), the schemas of its body and of its answer, and the codes it can answer. The OpenAPI
 * document is generated from this table (api-description.ts); the same schemas validate the
 * requests and read the answers, so the description cannot drift from the code.
 */
export type Route = {
  summary: string;
  scope?: TokenScope;
  body?: Schema<unknown>;
  limit?: number;
  handle: (ctx: Ctx, body: never) => Promise<unknown> | unknown;
  status?: number;
  /** The success answer's schema: the one callers parse it with. */
  response?: Schema<unknown>;
  /** Codes the route can answer besides those of every route, of a body and of a token (openapi.ts). */
  errors?: readonly ErrorCode[];
  /** The query parameters the handler reads. */
  query?: Record<string, QueryParam>;
  operationId?: string;
};

const requestStates = ['pending', 'approved', 'rejected'] as const;

const BULK_BODY_LIMIT = 1024 * 1024;
const address = (req: IncomingMessage) => req.socket.remoteAddress ?? '?';

/** The whole table: public routes, the console's session, then the admin API. */
function routes(authority: Authority, root: Root, web: ConsoleWeb, limiter?: RateLimiter): Record<string, Route> {
  const tokens = adminTokenRoutes(authority);
  const revoke = tokens['POST /v1/admin/tokens/revoke']!;
  return {
    ...publicRoutes(authority, root, limiter),
    ...consoleSessionRoutes(authority, web, limiter),
    ...adminKeyRoutes(authority),
    ...consoleReadRoutes(authority),
    ...tokens,
    // a revoked token's console sessions end here at once (other nodes see the revoked row)
    'POST /v1/admin/tokens/revoke': {
      ...revoke,
      handle: async (ctx, body: { id: string }) => {
        const done = await revoke.handle(ctx, body as never);
        web.sessions.endToken(body.id);
        return done;
      },
    },
    ...usageRoutes(authority),
  };
}

/** What hosts, directories, machines and key holders call (anonymous, rate-limited). */
function publicRoutes(authority: Authority, root: Root, limiter?: RateLimiter): Record<string, Route> {
  return {
    'GET /v1/health': {
      summary: 'liveness: the process answers',
      response: authorityHealthSchema,
      handle: () => ({ ok: true }),
    },
    'GET /v1/ready': {
      summary:
        'readiness: the database answers, a catalog is imported, every issuing key is loaded (else 503 NOT_READY)',
      response: readyAnswerSchema,
      errors: ['NOT_READY'],
      handle: async ({ req, res, log }) => {
        try {
          await authority.ready();
        } catch (err) {
          if (err instanceof VolactError) throw new VolactError('NOT_READY', { reason: err.message });
          // the driver's words (a host name, an address, a user) are for the operator's log only:
          // this probe is anonymous and may face the internet
          const id = requestId(req, res);
          log.error({ requestId: id, error: err instanceof Error ? err.message : String(err) }, 'not ready');
          throw new VolactError('NOT_READY', {
            reason: `its database does not answer (the log names the error: request ${id})`,
          });
        }
        return { ready: true };
      },
    },
    'GET /v1/root': {
      summary: 'the publisher root public key hosts and clients pin',
      response: rootAnswerSchema,
      handle: () => ({ kid: root.kid, publicKey: publicKeyToPem(root.key) }),
    },
    'GET /v1/catalog': {
      summary: 'the signed catalog and its issuer certificate',
      response: catalogAnswerSchema,
      errors: ['AUTHORITY_NOT_READY'],
      handle: async () => {
        const { jws, issuer } = await authority.catalog();
        return { catalog: jws, issuer };
      },
    },
    'GET /v1/offline-bundle': {
      summary: 'what air-gapped hosts and machines install to check confirmation IDs',
      response: offlineBundleSchema,
      errors: ['AUTHORITY_NOT_READY'],
      handle: () => authority.offlineBundle(),
    },
    'POST /v1/host-activations': {
      summary: 'activate an activation host with its host key (rate-limited per address and key)',
      body: hostActivationRequestSchema,
      response: hostActivationAnswerSchema,
      errors: slotErrors,
      handle: async ({ req }, body: Infer<typeof hostActivationRequestSchema>) => {
        await limiter?.check(address(req), body.hostKey);
        return authority.activateHost(body);
      },
    },
    'POST /v1/hypervisor-activations': {
      summary:
        'activate a hypervisor agent with its datacenter key: a certificate for its guest editions (rate-limited per address and key)',
      body: hostActivationRequestSchema,
      response: hostActivationAnswerSchema,
      errors: [...slotErrors, 'GROUP_NO_GUEST_EDITIONS'],
      handle: async ({ req }, body: Infer<typeof hostActivationRequestSchema>) => {
        await limiter?.check(address(req), body.hostKey);
        return authority.activateHypervisor(body);
      },
    },
    'POST /v1/directory-activations': {
      summary:
        'activate a directory with a host key: a signed directory activation object (rate-limited per address and key)',
      body: directoryActivationRequestSchema,
      response: directoryActivationAnswerSchema,
      errors: slotErrors,
      handle: async ({ req }, body: Infer<typeof directoryActivationRequestSchema>) => {
        await limiter?.check(address(req), body.hostKey);
        return authority.activateDirectory(body);
      },
    },
    'POST /v1/mak-activations': {
      summary: 'activate a machine with a MAK (rate-limited per address and key)',
      body: makActivationRequestSchema,
      response: makActivationAnswerSchema,
      errors: [...keyErrors, 'MAK_LIMIT', 'RATE_LIMITED', 'AUTHORITY_NOT_READY'],
      handle: async ({ req }, body: Infer<typeof makActivationRequestSchema>) => {
        await limiter?.check(address(req), body.makKey);
        return authority.activateMak(body);
      },
    },
    ...keyHolderRoutes(authority, limiter),
  };
}

/** What a key holder calls with the key itself: the offline line and increase requests (rate-limited). */
function keyHolderRoutes(authority: Authority, limiter?: RateLimiter): Record<string, Route> {
  return {
    'POST /v1/offline-confirmations': {
      summary: 'confirmation ID for one installation ID (the "phone" line; rate-limited per address and key)',
      body: offlineConfirmationRequestSchema,
      response: confirmedSchema,
      errors: [...confirmErrors, 'RATE_LIMITED'],
      handle: async ({ req }, body: Infer<typeof offlineConfirmationRequestSchema>) => {
        // per address before any work (the MAC check is deliberately slow); per key once the MAC
        // proves the caller holds the key, counted in the same bucket as the key's online use
        await limiter?.checkAddress(address(req));
        return authority.confirmOffline(body.installationId, undefined, limiter && ((key) => limiter.checkKey(key)));
      },
    },
    'POST /v1/increase-requests': {
      summary: 'a key holder asks for more activations or hosts',
      body: increaseRequestSchema,
      status: 201,
      response: increaseFiledSchema,
      errors: [...keyErrors, 'VALUE_OUT_OF_RANGE', 'RATE_LIMITED'],
      handle: async ({ req }, body: Infer<typeof increaseRequestSchema>) => {
        await limiter?.check(address(req), body.key);
        return authority.requestIncrease(body);
      },
    },
    'POST /v1/increase-requests/status': {
      summary: 'the state and steps of a request, for the key holder',
      body: increaseStatusSchema,
      response: increaseRecordSchema,
      errors: [...keyErrors, 'REQUEST_UNKNOWN', 'RATE_LIMITED'],
      handle: async ({ req }, body: Infer<typeof increaseStatusSchema>) => {
        await limiter?.check(address(req), body.key);
        return authority.increaseStatus(body.id, body.key);
      },
    },
  };
}

// --- admin API: bearer tokens with scopes; every write is audited in its own transaction ---

/** Keys, MAKs, increase requests and proxy activation. */
function adminKeyRoutes(authority: Authority): Record<string, Route> {
  return {
    'GET /v1/admin/host-keys': {
      summary: 'host and datacenter keys (keyClass) with usage (never the key itself)',
      scope: 'read',
      response: hostKeyListSchema,
      handle: async () =>
        (await authority.listHostKeys()).map(({ keyHash: _hash, ...k }) => ({
          ...k,
          key: `*****-*****-*****-*****-${k.partial}`,
        })),
    },
    'POST /v1/admin/host-keys': {
      summary: 'issue a host key for a product group (the key is shown in this answer only)',
      scope: 'issue',
      body: adminSchemas.issueHostKey,
      status: 201,
      response: issuedHostKeySchema,
      errors: issueErrors,
      handle: ({ actor }, b: Infer<typeof adminSchemas.issueHostKey>) =>
        authority.issueHostKey(b.group, { maxHosts: b.hosts, maxActivations: b.activations }, actor),
    },
    'POST /v1/admin/datacenter-keys': {
      summary:
        'issue a datacenter key for hypervisor agents, for a product group with guest editions (the key is shown in this answer only)',
      scope: 'issue',
      body: adminSchemas.issueDatacenterKey,
      status: 201,
      response: issuedDatacenterKeySchema,
      errors: [...issueErrors, 'GROUP_NO_GUEST_EDITIONS'],
      handle: ({ actor }, b: Infer<typeof adminSchemas.issueDatacenterKey>) =>
        authority.issueDatacenterKey(b.group, { maxHosts: b.hosts, maxActivations: b.activations }, actor),
    },
    'GET /v1/admin/maks': {
      summary: 'MAKs with usage (never the key itself)',
      scope: 'read',
      response: makListSchema,
      handle: async () =>
        (await authority.listMaks()).map(({ keyHash: _hash, ...k }) => ({
          ...k,
          key: `*****-*****-*****-*****-${k.partial}`,
        })),
    },
    'POST /v1/admin/maks': {
      summary: 'issue a MAK for an edition with a number of activations (the key is shown in this answer only)',
      scope: 'issue',
      body: adminSchemas.issueMak,
      status: 201,
      response: issuedMakSchema,
      errors: issueErrors,
      handle: ({ actor }, b: Infer<typeof adminSchemas.issueMak>) =>
        authority.issueMak(b.edition, b.activations, actor),
    },
    'GET /v1/admin/requests': {
      summary: 'increase requests with every step (?state=pending|approved|rejected)',
      scope: 'read',
      query: {
        state: { description: 'only the requests in this state (default: all)', schema: { enum: requestStates } },
      },
      response: increaseListSchema,
      errors: ['BAD_REQUEST'],
      handle: ({ url }) => {
        const state = url.searchParams.get('state');
        if (state !== null && !(requestStates as readonly string[]).includes(state))
          throw new VolactError('BAD_REQUEST', {
            field: 'state',
            problem: `must be one of ${requestStates.join(', ')}`,
          });
        return authority.increaseRequests((state ?? undefined) as 'pending' | undefined);
      },
    },
    'POST /v1/admin/requests/decide': {
      summary: 'approve (the limit rises at once) or reject a request, once',
      scope: 'approve',
      body: adminSchemas.decide,
      response: increaseRecordSchema,
      errors: ['REQUEST_UNKNOWN', 'REQUEST_DECIDED', 'VALUE_OUT_OF_RANGE'],
      handle: ({ actor }, b: Infer<typeof adminSchemas.decide>) =>
        authority.decideIncrease(b.id, b.decision === 'approve', b.amount, b.note, actor),
    },
    'POST /v1/admin/release-host': {
      summary: 'free the host slot of a decommissioned host',
      scope: 'approve',
      body: adminSchemas.releaseHost,
      response: releasedSchema,
      errors: ['REQUEST_UNKNOWN'],
      handle: async ({ actor }, b: Infer<typeof adminSchemas.releaseHost>) => {
        await authority.releaseHost(b.hostKeyId, b.hostId, actor);
        return { released: true };
      },
    },
    'POST /v1/admin/offline-confirmations': {
      summary:
        'proxy activation in bulk: confirmation IDs for up to 1000 installation IDs (not throttled as anonymous traffic)',
      scope: 'issue',
      body: bulkConfirmationRequestSchema,
      limit: BULK_BODY_LIMIT,
      response: bulkConfirmationAnswerSchema,
      errors: ['AUTHORITY_NOT_READY'],
      handle: async ({ actor }, b: Infer<typeof bulkConfirmationRequestSchema>) => {
        const results = [];
        for (const installationId of b.installationIds) {
          try {
            results.push({ ok: true, ...(await authority.confirmOffline(installationId, actor)) });
          } catch (err) {
            if (!(err instanceof VolactError) || err.status >= 500) throw err;
            results.push({ ok: false, installationId, error: errorBody(err) });
          }
        }
        return { results };
      },
    },
  };
}

/** The OpenAPI document without a server (tests): the route table's handlers are never called here. */
export function authorityApiDocument(): Record<string, unknown> {
  return openApi(routes(undefined as never, undefined as never, undefined as never));
}

export type Tls = { cert: string | Buffer; key: string | Buffer };

/**
 * The authority's HTTP API. Handlers parse, call one verb, render. With `tls`, HTTPS. `observe`
 * hears of every answered request (metrics, access log). The web console is served under
 * /console/ from the same port; its session cookie is Secure with TLS or behind a TLS proxy.
 */
export function authorityServer(
  authority: Authority,
  root: Root,
  limiter?: RateLimiter,
  tls?: Tls,
  limits: ConnectionLimits = defaultConnectionLimits,
  observe?: RequestObserver,
  log?: Log,
  consoleOptions: ConsoleOptions = {},
): Server {
  const web: ConsoleWeb = {
    sessions: new ConsoleSessions({ now: () => authority.now() }),
    secure: Boolean(tls) || Boolean(consoleOptions.behindTlsProxy),
  };
  const table = routes(authority, root, web, limiter);
  const document = openApi(table);
  const handlers: Record<string, Handler> = { 'GET /v1/openapi.json': (_req, res) => sendJson(res, 200, document) };
  for (const [key, route] of Object.entries(table)) {
    handlers[key] = async (req, res, url) => {
      let actor = 'anonymous';
      if (route.scope) {
        // authentication before the body is read: no token, no work
        const token = await authenticateAdmin(authority, web, req, res);
        if (!token.scopes.includes(route.scope) && !token.scopes.includes('admin'))
          throw new VolactError('TOKEN_SCOPE', { scopes: token.scopes.join(','), needed: route.scope });
        actor = `token:${token.id}`;
        // admin answers (setup keys, a new token's secret) are never kept in a browser's cache
        res.setHeader('cache-control', 'no-store');
      }
      const body = route.body ? validate(route.body, await readJson(req, route.limit)) : undefined;
      sendJson(
        res,
        route.status ?? 200,
        await route.handle({ req, res, url, actor, log: log ?? silentLog }, body as never),
      );
    };
  }
  const routed = router(handlers, log, observe, consoleFallback(consoleOptions.consoleDir ?? consoleDir()));
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('x-content-type-options', 'nosniff');
    routed(req, res);
  };
  const server = tls
    ? createHttpsServer({ cert: tls.cert, key: tls.key, ...serverTimeouts(limits) }, handler)
    : createHttpServer(serverTimeouts(limits), handler);
  guardConnections(server, limits, { tls: Boolean(tls) });
  return server;
}
