import { existsSync, readFileSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  DAY,
  VolactError,
  generateKeyPair,
  keyPairFromPem,
  privateKeyToPem,
  publicKeyFromPem,
  offlineIssuer,
  parseOfflineBundle,
  rootFromKey,
  verifyCatalog,
  type Clock,
  type OfflineBundle,
  type Root,
} from '@volact/protocol';
import {
  adminEndpoint,
  defaultConnectionLimits,
  endpointMayAnswer,
  listenMetrics,
  observers,
  makeStateDir,
  writeFileAtomic,
  type AdminEndpoint,
  type ConnectionLimits,
  accessLog,
  defaultLog,
  type Log,
  type ConnectionStats,
  type MetricsAddress,
  type MetricsListener,
  listenOn,
} from '@volact/io';
import type Database from 'better-sqlite3';
import { Host } from './host.js';
import { Checkpointer } from './checkpointer.js';
import { HostStore, openHostDb } from './host-store.js';
import { clientServer } from './http.js';
import { DnsPublisher, type DnsConfig } from './dns-publisher.js';
import { parseTsigKeyFile, type TsigKey } from './dns-update.js';
import { checkDns, checkHostName, checkListenAddress, checkServedNetworks, checkSetting } from './settings.js';
import { applyPriority } from './priority.js';
import { HostMetrics } from './metrics.js';
import { sampleCount } from './console-queries.js';
import { openAdminAndConsole, type ConsoleOptions, type RunningConsole } from './console-start.js';

export type HostRunOptions = {
  dir: string;
  clock: Clock;
  /** PEM of the publisher root (or its offline bundle) to pin; needed the first time, then kept in the state directory. */
  rootPem?: string;
  authorityUrl?: string;
  port?: number;
  /** The address to listen on, stored once bound; without it, the stored one (default ::). */
  listenAddress?: string;
  servedNetworks?: string[];
  /** The host's name to store ('' goes back to the machine's name); without it, the stored one. */
  hostName?: string;
  log?: Log;
  /** One `request` line per client request in the log (default true; `--access-log off`). */
  accessLog?: boolean;
  /** DNS publishing settings to store (a partial change keeps the stored rest). */
  dns?: Partial<DnsConfig>;
  /** A BIND key file (TSIG, hmac-sha256) to keep as the host's DNS key (dns.key, 0600). */
  tsigKeyText?: string;
  /** Start with an empty host.db although host.key exists (the database was lost and there is no backup). */
  newDatabase?: boolean;
  /** Connection caps and timeouts of the client port (defaults: defaultConnectionLimits). */
  connectionLimits?: Partial<ConnectionLimits>;
  /**
   * Prometheus metrics on a listener of their own (GET /metrics), never on the client port;
   * none without it. `explicit`: the operator gave the address, so one that cannot be bound
   * refuses the start; the default one taken is a warning, and the host runs without metrics.
   */
  metrics?: { address: MetricsAddress | null; explicit: boolean };
  /** The host console (HTTPS, console-start.ts); none without it. */
  console?: ConsoleOptions;
};

export type RunningHost = {
  host: Host;
  dns: DnsPublisher;
  port: () => number;
  /** Where GET /metrics answers, if anywhere. */
  metricsAddress: MetricsAddress | undefined;
  /** The host console's URL and its certificate's SHA-256 fingerprint, if it runs. */
  console: RunningConsole | undefined;
  /** The admin API: DIR/admin.sock, or a named pipe on Windows (adminEndpoint). */
  socketPath: string;
  /** What `systemctl reload` (SIGHUP) does: see reloadHost. */
  reload: () => void;
  close: () => Promise<void>;
};

export const EVENT_RETENTION_MS = 90 * DAY;

/**
 * Every hour, and at start: prune the log from the front (after a checkpoint that anchors what
 * is kept), then sign a checkpoint of the head when records came since the last one or it is a
 * day old (docs/operations.md#verifying-the-host-log). A failure is logged; serving goes on.
 */
function maintainLog(host: Host, dns: DnsPublisher, log: Log, db?: Database.Database): void {
  try {
    if (db) sampleCount(db, host.status().now, host.currentCount()); // the console's chart
    host.pruneEvents(EVENT_RETENTION_MS);
    dns.prune(EVENT_RETENTION_MS);
    host.checkpointLog(DAY);
  } catch (err) {
    log.error({}, `log maintenance: ${(err as Error).message}`);
  }
}

/** Loads or creates the host's own key pair; the private key never leaves the host. */
function hostKeyPair(dir: string) {
  const path = join(dir, 'host.key');
  if (existsSync(path)) return readOrCorrupt(path, (text) => keyPairFromPem('host', text));
  const pair = generateKeyPair('host');
  writeFileAtomic(path, privateKeyToPem(pair.privateKey), 0o600);
  return pair;
}

/**
 * Pins the root from `--root` (a PEM, or the publisher's offline bundle, whose root is pinned and
 * which is kept as offline.json once it verifies) and returns the roots and any stored bundle.
 */
export function pinnedRoots(
  dir: string,
  rootText: string | undefined,
): { roots: Root[]; bundle: OfflineBundle | undefined } {
  const path = join(dir, 'root.pub');
  const bundlePath = join(dir, 'offline.json');
  const given = rootText ? parseOfflineBundle(rootText) : undefined;
  const rootPem = given ? given.root : rootText;
  if (rootPem) {
    const key = publicKeyFromPem(rootPem);
    if (existsSync(path) && !readOrCorrupt(path, publicKeyFromPem).equals(key))
      throw new VolactError('ROOT_MISMATCH', { path });
    writeFileAtomic(path, rootPem, 0o644);
  }
  if (!existsSync(path)) throw new VolactError('ROOT_NOT_PINNED', { dir });
  const roots = [rootFromKey(readOrCorrupt(path, publicKeyFromPem))];
  if (given) {
    offlineIssuer(given.offlineIssuer, roots);
    verifyCatalog(given.catalog, given.catalogIssuer, roots);
    writeFileAtomic(bundlePath, JSON.stringify(given, null, 2) + '\n', 0o644);
  }
  const bundle = existsSync(bundlePath) ? readOrCorrupt(bundlePath, (text) => parseOfflineBundle(text)!) : undefined;
  return { roots, bundle };
}

/**
 * Opens host.db. The database is made before host.key, so a host.key beside a missing or empty
 * database is damage (the host's activation and counts are gone), never a new host: refused,
 * unless the operator asks for a new database on purpose (`newDatabase`). A database that holds
 * activated keys without its host.key is refused too: answers signed by a new key would not
 * match the certificates.
 */
function openStateDb(dir: string, newDatabase: boolean) {
  const path = join(dir, 'host.db');
  const initialised = existsSync(join(dir, 'host.key'));
  const empty = !existsSync(path) || statSync(path).size === 0;
  if (initialised && empty && !newDatabase) {
    const what = existsSync(path) ? 'it is empty (0 bytes)' : 'it is missing';
    throw new VolactError('STATE_CORRUPT', {
      file: path,
      detail: `${what}, but host.key shows this host was set up here: its activation and counts would be lost. Restore host.db from a backup (with its -wal file); with no backup, start with --new-database and install and activate the host key again`,
    });
  }
  let db;
  try {
    db = openHostDb(path);
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
  }
  if (!initialised && new HostStore(db).hasActivatedKeys()) {
    db.close();
    throw new VolactError('STATE_CORRUPT', {
      file: join(dir, 'host.key'),
      detail:
        'it is missing, but host.db holds activated host keys whose certificates name that key. Restore host.key from a backup; without it, move the state directory aside and set the host up again (a host slot and an activation of the key)',
    });
  }
  return db;
}

/** Reads and parses a state file; a damaged one is STATE_CORRUPT, never a crash. */
export function readOrCorrupt<T>(path: string, parse: (text: string) => T): T {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
  }
}

/** True when something accepts connections on the admin endpoint: another host runs here. */
export function socketAnswers(endpoint: AdminEndpoint): Promise<boolean> {
  if (!endpointMayAnswer(endpoint)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const probe = connect(endpoint.path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

const readTsigKey = (path: string) => (existsSync(path) ? readOrCorrupt(path, parseTsigKeyFile) : null);

/** The stored -spri/-cpri; a niceness the service manager set (systemd Nice=, LimitNICE=) never stops the host. */
function applyStoredPriority(host: Host, log: Log): void {
  try {
    applyPriority(host.settings.priority);
  } catch (err) {
    log.warn({}, (err as Error).message);
  }
}

/**
 * SIGHUP (`systemctl reload`): reads dns.key again (a rotated TSIG key), applies the stored
 * priority and publishes at once. A damaged new dns.key is logged and the previous key kept, so
 * a reload never stops publishing; the client port, the counts and the admin socket stay.
 */
function reloadHost(host: Host, dns: DnsPublisher, tsig: { path: string; key: TsigKey | null }, log: Log): void {
  try {
    tsig.key = readTsigKey(tsig.path);
  } catch (err) {
    log.error({}, `reload: ${(err as Error).message}; the previous key stays`);
  }
  applyStoredPriority(host, log);
  dns.soon();
  log.info({ tsigKey: tsig.key?.name ?? null }, 'reloaded');
}

/**
 * Points the metrics at the running host and opens their listener; a listener that cannot start
 * closes the host's servers (`abandon`) so the refused start leaves nothing running.
 */
async function startMetrics(
  metrics: HostMetrics,
  running: { host: Host; dns: DnsPublisher; connections: () => ConnectionStats },
  listen: { address: MetricsAddress | null; explicit: boolean },
  log: Log,
  abandon: () => void,
): Promise<MetricsListener | undefined> {
  const { host, dns } = running;
  dns.observe = metrics.dns;
  metrics.watch({
    count: () => host.currentCount(),
    activated: () => host.activated,
    ready: () => host.notReady().length === 0,
    dnsFailing: () => dns.failing,
    connections: running.connections,
  });
  if (!listen.address) return undefined;
  try {
    return await listenMetrics(() => metrics.render(), listen.address, listen.explicit, log);
  } catch (err) {
    abandon();
    throw err;
  }
}

/** Starts an activation host from its state directory: client port and admin socket. */
export async function runHost(opts: HostRunOptions): Promise<RunningHost> {
  const log = opts.log ?? defaultLog('host');
  makeStateDir(opts.dir);
  const endpoint = adminEndpoint(opts.dir);
  if (await socketAnswers(endpoint)) throw new VolactError('HOST_ALREADY_RUNNING', { dir: opts.dir });
  const { roots, bundle } = pinnedRoots(opts.dir, opts.rootPem);
  const db = openStateDb(opts.dir, opts.newDatabase ?? false);
  const wal = new Checkpointer(db, join(opts.dir, 'host.db'), log);
  try {
    return await start(opts, db, wal, roots, bundle, endpoint, log);
  } catch (err) {
    // a refused start leaves nothing running
    await wal.stop();
    db.close();
    throw err;
  }
}

async function start(
  opts: HostRunOptions,
  db: Database.Database,
  wal: Checkpointer,
  roots: Root[],
  bundle: OfflineBundle | undefined,
  endpoint: AdminEndpoint,
  log: Log,
): Promise<RunningHost> {
  // no listener, no metrics: nothing is counted (embedding, --metrics-listen off)
  const metrics = opts.metrics?.address ? new HostMetrics() : undefined;
  const host = new Host({
    db,
    clock: opts.clock,
    keyPair: hostKeyPair(opts.dir),
    roots,
    hostName: hostname(),
    log,
    offlineBundle: bundle,
    wal,
    batchObserver: metrics?.batch,
  });
  // every option is checked before any is stored: a refused start changes nothing
  if (opts.servedNetworks) checkServedNetworks(opts.servedNetworks);
  if (opts.port) checkSetting('port', opts.port);
  if (opts.hostName !== undefined) checkHostName(opts.hostName);
  if (opts.listenAddress !== undefined) checkListenAddress(opts.listenAddress);
  if (opts.dns) checkDns(host.settings.dns, opts.dns);
  if (opts.tsigKeyText !== undefined) {
    try {
      parseTsigKeyFile(opts.tsigKeyText);
    } catch (err) {
      throw new VolactError('USAGE', { detail: `--tsig-key: ${(err as Error).message}` });
    }
  }
  if (opts.authorityUrl) host.setAuthority(opts.authorityUrl);
  if (opts.servedNetworks) host.setServedNetworks(opts.servedNetworks);
  const keyPath = join(opts.dir, 'dns.key');
  if (opts.tsigKeyText !== undefined) writeFileAtomic(keyPath, opts.tsigKeyText, 0o600);
  if (opts.dns) host.setDns(opts.dns);
  // a restart without --name keeps the stored name, and so the SRV target (issue 10)
  if (opts.hostName !== undefined) host.setHostName(opts.hostName);
  applyStoredPriority(host, log); // before any client is served
  const tsig = { path: keyPath, key: readTsigKey(keyPath) };
  const address = opts.listenAddress ?? host.settings.listenAddress;

  const limits: ConnectionLimits = { ...defaultConnectionLimits, ...opts.connectionLimits };
  const observe = observers(opts.accessLog === false ? undefined : accessLog(log), metrics?.request);
  let { server: client, connections } = clientServer(host, log, limits, observe);
  await listenOn(client, opts.port ?? host.settings.port, address);
  // stored only once bound; port 0 (tests) takes a free port and stores nothing
  if (opts.port) host.setSetting('port', opts.port);
  if (opts.listenAddress !== undefined) host.setListenAddress(opts.listenAddress);
  if (opts.port === 0) host.settings.port = (client.address() as { port: number }).port;
  const dns = new DnsPublisher(
    new HostStore(db),
    opts.clock,
    () => host.settings.dns,
    () => host.settings.port,
    () => tsig.key,
    log,
    () => ({ name: host.hostName, activated: host.activated }),
  );
  const onPortChange = async (port: number) => {
    const next = clientServer(host, log, limits, observe);
    await listenOn(next.server, port, address);
    const old = client;
    client = next.server;
    connections = next.connections;
    old.close();
    old.closeAllConnections();
    dns.soon(); // the SRV record carries the port
  };
  const { admin, web } = await openAdminAndConsole(
    { dir: opts.dir, host, db, dns, clock: opts.clock, log },
    { endpoint, limits, connections: () => connections(), checkpoints: () => wal.stats, onPortChange },
    opts.console,
    () => client.close(),
  );
  const scrape =
    metrics &&
    (await startMetrics(metrics, { host, dns, connections: () => connections() }, opts.metrics!, log, () => {
      admin.close();
      client.close();
      void web?.close();
    }));
  maintainLog(host, dns, log, db);
  const prune = setInterval(() => maintainLog(host, dns, log, db), 3_600_000);
  prune.unref();
  dns.start(); // publishes now if configured, then every 24 hours; failures never stop serving
  return {
    host,
    dns,
    port: () => (client.address() as { port: number }).port,
    metricsAddress: scrape?.address,
    console: web,
    socketPath: endpoint.path,
    reload: () => reloadHost(host, dns, tsig, log),
    close: async () => {
      clearInterval(prune);
      await dns.stop(); // an update in flight finishes before the database closes
      await Promise.all([
        new Promise((r) => client.close(r)),
        new Promise((r) => admin.close(r)),
        scrape?.close(),
        web?.close(),
      ]);
      client.closeAllConnections();
      try {
        host.checkpointLog(); // the head at a clean shutdown is signed
      } catch (err) {
        log.error({}, `log checkpoint: ${(err as Error).message}`);
      }
      await wal.stop(); // its connection first: the last one to close checkpoints what is left
      db.close();
    },
  };
}
