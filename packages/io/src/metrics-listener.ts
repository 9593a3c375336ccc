import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { Registry, collectDefaultMetrics } from 'prom-client';
import { VolactError, errorBody } from '@volact/protocol';
import { listenOn } from './listen.js';
import type { Log } from './log.js';

/**
 * Where a role serves its Prometheus metrics: a listener of its own, apart from the port that
 * faces clients or the internet, so metrics are never exposed there. Loopback by default.
 */
export type MetricsAddress = { host: string; port: number };

/** What a scrape answers: the registry's text in its content type (prom-client's `metrics()`). */
export type MetricsRender = () => Promise<{ contentType: string; body: string }>;

/**
 * A role's registry (one per server, so several in one process keep theirs apart) with Node's
 * process metrics (process_*, nodejs_*) as prom-client names them, less three gauges it names
 * *_total, which Prometheus keeps for counters (promtool check metrics flags them); the same
 * figures remain in nodejs_active_handles, _requests and _resources.
 */
export function roleRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'])
    registry.removeSingleMetric(name);
  return registry;
}

/** A registry's text for a scrape. */
export function renderRegistry(registry: Registry): MetricsRender {
  return async () => ({ contentType: registry.contentType, body: await registry.metrics() });
}

/** `--metrics-listen ADDRESS:PORT|off`: IPv4:PORT, localhost:PORT or [IPv6]:PORT. */
export function parseMetricsListen(spec: string): MetricsAddress | null {
  return parseListenSpec(spec, '--metrics-listen', '127.0.0.1:9688, [::1]:9688');
}

/**
 * A listener of its own (`--metrics-listen`, the host's `--console-listen`): `off` is null, else
 * an IPv4 address, `localhost` or `[IPv6]`, and a port (0 takes a free one, for tests). An address
 * that is not one (999.1.1.1, 1.2.3, [1::2::3]) is USAGE here, not a failed bind later.
 */
export function parseListenSpec(spec: string, flag: string, examples: string): { host: string; port: number } | null {
  if (spec.trim().toLowerCase() === 'off') return null;
  const m = /^\[([0-9A-Fa-f:.]+)\]:(\d{1,5})$/.exec(spec) ?? /^([0-9.]+|localhost):(\d{1,5})$/.exec(spec);
  if (!m || (m[1] !== 'localhost' && isIP(m[1]!) === 0))
    throw new VolactError('USAGE', {
      detail: `${flag} ${spec.slice(0, 60)}: give ADDRESS:PORT (${examples}) or off`,
    });
  const port = Number(m[2]);
  if (port > 65535)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: `${flag} port`, min: 0, max: 65535, value: port });
  return { host: m[1]!, port };
}

/** The URL a scrape uses, for the start line; null without a listener. */
export function metricsUrl(address: MetricsAddress | undefined): string | null {
  if (!address) return null;
  return `http://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}/metrics`;
}

export type MetricsListener = { server: Server; address: MetricsAddress; close: () => Promise<void> };

/**
 * Serves GET /metrics (and HEAD) on `address`; every other path and method is 404. An address
 * the operator gave that cannot be bound refuses the start (PORT_UNAVAILABLE); the default one
 * taken (another host on this machine) is a warning, and the role runs without metrics.
 */
export async function listenMetrics(
  render: MetricsRender,
  address: MetricsAddress,
  explicit: boolean,
  log: Log,
): Promise<MetricsListener | undefined> {
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 15_000 }, (req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      const body = JSON.stringify(
        errorBody(new VolactError('NOT_FOUND', { method: req.method ?? '?', path: (path ?? '').slice(0, 100) })),
      );
      res.writeHead(404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    render().then(
      ({ contentType, body }) => {
        res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        log.error({ error: String(err) }, 'metrics: a collector failed');
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('metrics unavailable\n');
      },
    );
  });
  server.keepAliveTimeout = 30_000;
  const where = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
  try {
    await listenOn(server, address.port, address.host);
  } catch (err) {
    const reason = String((err as VolactError).params.reason);
    if (explicit)
      throw new VolactError('PORT_UNAVAILABLE', { port: address.port, reason: `metrics ${where}, ${reason}` });
    log.warn(
      { address: where, reason },
      `metrics: the default address ${where} is taken (${reason}); running without metrics. Give --metrics-listen ADDRESS:PORT, or off`,
    );
    return undefined;
  }
  const bound = server.address() as { address: string; port: number };
  return {
    server,
    address: { host: bound.address, port: bound.port },
    close: async () => {
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
    },
  };
}
