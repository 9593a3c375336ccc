import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  VolactError,
  activateRequestSchema,
  bool,
  errorBody,
  errorTable,
  literal,
  obj,
  optional,
  str,
  type Schema,
} from '@volact/protocol';
import {
  guardConnections,
  intParam,
  readJson,
  router,
  sendError,
  sendJson,
  serverTimeouts,
  validate,
  type ConnectionLimits,
  type Handler,
  type ConnectionStats,
  type RequestObserver,
  watchRequest,
  type Log,
} from '@volact/io';
import { networkFilter } from './cidr.js';
import { clientApiDocument } from './api-description.js';
import type { Outcome } from './activation-batch.js';
import type { ActivationAnswer, Host, HostCertificate } from './host.js';
import type { DnsPublisher } from './dns-publisher.js';
import type { CheckpointStats } from './checkpointer.js';

const ACTIVATE_BODY_LIMIT = 4096;

/** The status of each answer: a grant is the request's success; the others are the error table's. */
const answerStatus: Record<Outcome, number> = {
  activated: 200,
  renewed: 200,
  countInsufficient: errorTable.COUNT_INSUFFICIENT.status,
  editionNotCovered: errorTable.EDITION_NOT_COVERED.status,
  clockSkew: errorTable.CLOCK_SKEW.status,
  notActivated: errorTable.HOST_NOT_ACTIVATED.status,
};

/**
 * What follows the JWS in a signed answer's body, per host certificate: `","certificate":"…",
 * "issuer":"…"}`. It is the same for every answer the certificate covers and holds the body's two
 * longest strings, so it is serialised once per certificate, and an answer's body is one
 * concatenation instead of a JSON.stringify that copies and scans both on every request (JWS text
 * is base64url and dots: nothing to escape). A certificate reloaded by -ato or -atp is a new
 * object; the old one's entry goes with it.
 */
const bodyTails = new WeakMap<HostCertificate, string>();

/**
 * The tail for the editions a newer catalog added to the certificate's group: the certificate
 * entry (host-activation.ts) carries that catalog, and the answer carries it too, so the client
 * can check the rule (editionCovered). Built once per entry, like the other.
 */
function tailFor(certified: HostCertificate): string {
  const catalog = certified.catalog
    ? `","catalog":"${certified.catalog.jws}","catalogIssuer":"${certified.catalog.issuer}`
    : '';
  return `","certificate":"${certified.certificate}","issuer":"${certified.issuer}${catalog}"}`;
}

/** Renders one answer: a signed document with the host's certificate, or the error it stands for. */
function sendAnswer(res: ServerResponse, answer: ActivationAnswer): void {
  if (answer.outcome === 'notActivated') {
    sendJson(res, answerStatus.notActivated, errorBody(new VolactError('HOST_NOT_ACTIVATED')));
    return;
  }
  const { certified } = answer;
  let tail = bodyTails.get(certified);
  if (tail === undefined) {
    tail = tailFor(certified);
    bodyTails.set(certified, tail);
  }
  const body = `{"answer":"${answer.jws}${tail}`;
  res.writeHead(answerStatus[answer.outcome], {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * The client-facing listener: serves only the configured networks, within the connection limits.
 * `observe` hears of every answered request (metrics, access log).
 */
export function clientServer(
  host: Host,
  log: Log,
  limits: ConnectionLimits,
  observe?: RequestObserver,
): { server: Server; connections: () => ConnectionStats } {
  let served = networkFilter(host.settings.servedNetworks);
  let servedFor = host.settings.servedNetworks;
  const activate = async (req: IncomingMessage, res: ServerResponse) => {
    const body = validate(activateRequestSchema, await readJson(req, ACTIVATE_BODY_LIMIT));
    // a failed batch rejects with INTERNAL naming the request ID it logged; sendError shows it
    sendAnswer(res, await host.activateClient(body, req.socket.remoteAddress ?? ''));
  };
  const routes = router(
    {
      'GET /v1/health': (_req, res) => sendJson(res, 200, { ok: true, activated: host.activated }),
      'GET /v1/ready': (_req, res) => {
        const reasons = host.notReady();
        if (reasons.length) throw new VolactError('NOT_READY', { reason: reasons.join('; ') });
        sendJson(res, 200, { ready: true });
      },
      'POST /v1/activate': activate,
      'GET /v1/openapi.json': (_req, res) => sendJson(res, 200, clientApiDocument),
    },
    log,
    observe,
  );
  const server = createServer(serverTimeouts(limits), (req, res) => {
    if (servedFor !== host.settings.servedNetworks) {
      served = networkFilter(host.settings.servedNetworks);
      servedFor = host.settings.servedNetworks;
    }
    const address = req.socket.remoteAddress;
    if (!served(address)) {
      watchRequest(req, res, 'not-served', observe);
      req.resume();
      sendError(res, new VolactError('NETWORK_NOT_SERVED', { address: address ?? 'unknown' }), log);
      return;
    }
    // the one hot route goes straight to its handler, without the router's URL parsing
    if (req.url === '/v1/activate' && req.method === 'POST') {
      watchRequest(req, res, 'POST /v1/activate', observe);
      activate(req, res).catch((err: unknown) => sendError(res, err, log));
    } else routes(req, res);
  });
  return { server, connections: guardConnections(server, limits).stats };
}

/** Any number: the host's own range check names the setting and its range. */
const num: Schema<number> = {
  check: (v, p) =>
    typeof v === 'number' && Number.isFinite(v) ? undefined : { field: p, problem: 'must be a number' },
  describe: () => ({ type: 'number' }),
};
const settingsSchema = obj({ retryMinutes: optional(num), renewalMinutes: optional(num), port: optional(num) });
const keySchema = obj({ key: str({ min: 1, max: 64 }) });
const removeSchema = obj({ which: str({ min: 1, max: 64 }) });
const activateSchema = obj({ force: optional(bool) });
const confirmSchema = obj({ confirmationId: str({ min: 1, max: 1000 }) });
/** -upd-catalog: a catalog from a file, or nothing for the authority's current one. */
const catalogSchema = obj({
  catalog: optional(str({ min: 1, max: 1024 * 1024 })),
  issuer: optional(str({ min: 1, max: 16 * 1024 })),
});

/** What the key routes of an admin socket act on: an activation host, or a hypervisor agent. */
export type KeyAdmin = {
  installKey(key: string): unknown;
  uninstallKey(which: string): number;
  activate(force: boolean): Promise<unknown>;
  installationIds(): unknown;
  applyConfirmation(confirmationId: string): unknown;
  updateCatalog(offered: { jws: string; issuer: string } | undefined): Promise<unknown>;
};

/**
 * The admin routes of a machine the authority activates (slmgr -ipk, -upk, -ato, -dti, -atp, -upd-catalog),
 * the same on an activation host and on a hypervisor agent.
 */
export function keyRoutes(target: KeyAdmin): Record<string, Handler> {
  return {
    'POST /keys': async (req, res) => {
      const { key } = validate(keySchema, await readJson(req));
      sendJson(res, 200, target.installKey(key));
    },
    'POST /keys/remove': async (req, res) => {
      const { which } = validate(removeSchema, await readJson(req));
      sendJson(res, 200, { removed: target.uninstallKey(which) });
    },
    'POST /activate': async (req, res) => {
      const { force } = validate(activateSchema, await readJson(req));
      sendJson(res, 200, { activated: await target.activate(force ?? false) });
    },
    'GET /offline/installation-ids': (_req, res) => sendJson(res, 200, { keys: target.installationIds() }),
    'POST /offline/confirm': async (req, res) => {
      const { confirmationId } = validate(confirmSchema, await readJson(req));
      sendJson(res, 200, target.applyConfirmation(confirmationId));
    },
    'POST /catalog': async (req, res) => {
      const { catalog, issuer } = validate(catalogSchema, await readJson(req, 2 * 1024 * 1024));
      if ((catalog === undefined) !== (issuer === undefined))
        throw new VolactError('BAD_REQUEST', { field: 'issuer', problem: 'goes with catalog' });
      const offered = catalog !== undefined && issuer !== undefined ? { jws: catalog, issuer } : undefined;
      sendJson(res, 200, await target.updateCatalog(offered));
    },
  };
}

const dnsSchema = obj({ enabled: bool });
const prioritySchema = obj({ priority: literal('normal', 'low') });

/**
 * The admin socket's routes; the host console (console-routes.ts) calls the same handlers, so it
 * makes every check the socket makes.
 */
export function adminRoutes(
  host: Host,
  onPortChange: (port: number) => Promise<void>,
  limits: ConnectionLimits,
  connections: () => ConnectionStats,
  checkpoints: () => CheckpointStats,
  dns?: DnsPublisher,
): Record<string, Handler> {
  return {
    'GET /status': (_req, res) =>
      sendJson(res, 200, {
        ...host.status(),
        connections: { ...connections(), perAddressLimit: limits.perAddress, totalLimit: limits.total },
        checkpoints: checkpoints(),
      }),
    ...keyRoutes(host),
    'GET /dns': (_req, res, url) =>
      sendJson(res, 200, { ...dns?.status, events: dns?.events(intParam(url, 'limit') ?? 100) ?? [] }),
    'POST /dns': async (req, res) => {
      const { enabled } = validate(dnsSchema, await readJson(req));
      host.setDns({ enabled });
      if (enabled) dns?.soon();
      sendJson(res, 200, dns?.status ?? {});
    },
    'POST /dns/unpublish': async (_req, res) => {
      host.setDns({ enabled: false }); // a decommissioned host must not publish itself again
      sendJson(res, 200, { removed: (await dns?.unpublishAll()) ?? [] });
    },
    'POST /priority': async (req, res) => {
      host.setPriority(validate(prioritySchema, await readJson(req)).priority);
      sendJson(res, 200, host.status());
    },
    'POST /settings': async (req, res) => {
      await host.changeSettings(validate(settingsSchema, await readJson(req)), onPortChange);
      sendJson(res, 200, host.status());
    },
    'GET /events': (_req, res, url) =>
      sendJson(
        res,
        200,
        host.events({
          since: intParam(url, 'since'),
          machineId: url.searchParams.get('machine') ?? undefined,
          outcome: url.searchParams.get('outcome') ?? undefined,
          limit: intParam(url, 'limit'),
        }),
      ),
    'GET /machines': (_req, res, url) =>
      sendJson(
        res,
        200,
        host.machines({
          severalFingerprints: url.searchParams.get('fingerprints') === 'several',
          limit: intParam(url, 'limit'),
        }),
      ),
    'GET /rows': (_req, res) => sendJson(res, 200, host.rowCounts()),
  };
}

/**
 * The admin listener, on a Unix socket in the 0700 state directory: local administrators only.
 * `extra`: more routes (the console tokens, console-routes.ts).
 */
export function adminServer(
  host: Host,
  onPortChange: (port: number) => Promise<void>,
  log: Log,
  limits: ConnectionLimits,
  connections: () => ConnectionStats,
  checkpoints: () => CheckpointStats,
  dns?: DnsPublisher,
  extra: Record<string, Handler> = {},
): Server {
  const server = createServer(
    serverTimeouts(limits),
    router({ ...adminRoutes(host, onPortChange, limits, connections, checkpoints, dns), ...extra }, log),
  );
  // local administrators only, so no cap per address; a total cap and the timeouts still hold
  guardConnections(server, { ...limits, perAddress: 0, total: Math.min(limits.total, 256) });
  return server;
}
