import type { Server } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { join } from 'node:path';
import { VolactError, type Clock } from '@volact/protocol';
import {
  accessLog,
  defaultConnectionLimits,
  defaultLog,
  listenMetrics,
  observers,
  type ConnectionLimits,
  type Log,
  type MetricsAddress,
  type MetricsListener,
  listenOn,
} from '@volact/io';
import { Authority } from './authority.js';
import { authorityServer, type Tls } from './http.js';
import type { ConsoleOptions } from './console-routes.js';
import { loadKeys } from './keys.js';
import { openAuthorityDb } from './db/open.js';
import { KyselyAuthorityStore } from './kysely-store.js';
import { RateLimiter, defaultRateLimits, type RateLimits } from './rate-limiter.js';
import { AuthorityMetrics } from './metrics.js';
import type { AuthorityStore } from './store.js';

export type OpenAuthority = {
  authority: Authority;
  store: KyselyAuthorityStore;
  close: () => Promise<void>;
  rootKid: string;
};

/**
 * Opens an authority: its keys from `dir` and its store, PostgreSQL when `database` is a
 * postgres:// URL (several nodes may share it), else the embedded SQLite file in `dir`.
 * `watch` wraps the store the authority uses (metrics count its errors and outcomes).
 */
export async function openAuthority(
  dir: string,
  clock: Clock,
  database?: string,
  watch: (store: AuthorityStore) => AuthorityStore = (s) => s,
): Promise<OpenAuthority> {
  const keys = loadKeys(dir);
  const store = new KyselyAuthorityStore(await openAuthorityDb(database ?? join(dir, 'authority.db')));
  return {
    authority: new Authority(keys, watch(store), clock),
    store,
    close: () => store.close(),
    rootKid: keys.root.kid,
  };
}

/** Where the authority serves its metrics: see HostRunOptions.metrics (same rules). */
export type MetricsListen = { address: MetricsAddress | null; explicit: boolean };

/** Where the authority logs, and whether each request gets a `request` line (default: yes). */
export type AuthorityLogging = { log?: Log; accessLog?: boolean };

/** Serves the authority's API: HTTPS with `tls`; plain HTTP belongs on loopback (the CLI enforces it). */
export async function runAuthority(
  dir: string,
  clock: Clock,
  port: number,
  address = '127.0.0.1',
  database?: string,
  limits: RateLimits = defaultRateLimits,
  tls?: Tls,
  connections: Partial<ConnectionLimits> = {},
  logging: AuthorityLogging = {},
  metricsListen?: MetricsListen,
  consoleOptions: ConsoleOptions = {},
): Promise<{
  server: Server;
  port: number;
  metricsAddress: MetricsAddress | undefined;
  reloadTls: (tls: Tls) => void;
  close: () => Promise<void>;
}> {
  const metrics = new AuthorityMetrics();
  const opened = await openAuthority(dir, clock, database, (s) => metrics.watchStore(s));
  metrics.watch({ dialect: opened.store.dialect, pool: opened.store.pool, ready: () => opened.authority.ready() });
  const log = logging.log ?? defaultLog('authority');
  const server = authorityServer(
    opened.authority,
    loadKeys(dir).root,
    new RateLimiter(metrics.watchStore(opened.store), clock, limits, metrics.rateLimited),
    tls,
    { ...defaultConnectionLimits, ...connections },
    observers(logging.accessLog === false ? undefined : accessLog(log), metrics.request),
    log,
    consoleOptions,
  );
  let scrape: MetricsListener | undefined;
  try {
    await listenOn(server, port, address);
    if (metricsListen?.address)
      scrape = await listenMetrics(() => metrics.render(), metricsListen.address, metricsListen.explicit, log);
  } catch (err) {
    // a refused start leaves nothing open
    server.close();
    await opened.close();
    throw err;
  }
  return {
    server,
    port: (server.address() as { port: number }).port,
    metricsAddress: scrape?.address,
    /**
     * A renewed certificate and key for new connections (SIGHUP, `systemctl reload`); open ones
     * keep theirs. A pair that does not load throws, and the one in use stays.
     */
    reloadTls: (next: Tls) => {
      if (!tls) throw new VolactError('USAGE', { detail: 'the authority serves plain HTTP: no certificate to reload' });
      (server as unknown as HttpsServer).setSecureContext({ cert: next.cert, key: next.key });
    },
    close: async () => {
      await Promise.all([new Promise((r) => server.close(r)), scrape?.close()]);
      server.closeAllConnections();
      await opened.close();
    },
  };
}
