import type Database from 'better-sqlite3';
import {
  ConsoleSessions,
  HOST_CONSOLE_COOKIE,
  listenAdmin,
  type AdminEndpoint,
  type ConnectionLimits,
  type ConnectionStats,
  type Handler,
  type Log,
} from '@volact/io';
import type { Server } from 'node:http';
import { adminRoutes, adminServer } from './http.js';
import type { CheckpointStats } from './checkpointer.js';
import { tokenAdminRoutes } from './console-routes.js';
import type { Clock } from '@volact/protocol';
import type { Host } from './host.js';
import type { DnsPublisher } from './dns-publisher.js';
import { consoleCertificate } from './console-cert.js';
import { LogVerifier } from './console-log-state.js';
import { LoginLimiter, consoleRoutes } from './console-routes.js';
import { listenConsole, type ConsoleAddress } from './console-server.js';
import { ConsoleTokens } from './console-tokens.js';

/** `--console-listen` and `--console-cert`/`--console-key` as run-host takes them. */
export type ConsoleOptions = {
  address: ConsoleAddress | null;
  /** The operator gave the address: one that cannot be bound refuses the start. */
  explicit: boolean;
  certFile?: string;
  keyFile?: string;
};

export type RunningConsole = {
  url: string;
  fingerprint: string;
  /** Resolves when the log verification in progress (if any) ends (tests). */
  verifyLog: () => Promise<void>;
  close: () => Promise<void>;
};

/** Opens the host console: its certificate, its log verification (now, in a worker) and its listener. */
export async function startHostConsole(
  opts: ConsoleOptions,
  deps: { dir: string; host: Host; db: Database.Database; dns: DnsPublisher; clock: Clock; log: Log },
  tokens: ConsoleTokens,
  sessions: ConsoleSessions,
  admin: Record<string, Handler>,
): Promise<RunningConsole | undefined> {
  if (!opts.address) return undefined;
  const { dir, host, db, dns, clock, log } = deps;
  const now = () => clock.now();
  const certificate = consoleCertificate(dir, opts, host.hostName, new Date(now()));
  const logState = new LogVerifier(dir, now, log);
  const routes = consoleRoutes({
    host,
    db,
    tokens,
    sessions,
    admin,
    dns,
    logState,
    now,
    limiter: new LoginLimiter(now),
    log,
  });
  const listener = await listenConsole(routes, certificate, opts.address, opts.explicit, log);
  if (!listener) return undefined;
  let verifying = logState.start();
  return {
    url: listener.url,
    fingerprint: certificate.fingerprint,
    verifyLog: () => {
      verifying = logState.start().then(() => verifying);
      return verifying;
    },
    close: async () => {
      await listener.close();
      await logState.stop();
    },
  };
}

type ConsoleDepsIn = { dir: string; host: Host; db: Database.Database; dns: DnsPublisher; clock: Clock; log: Log };

/**
 * The admin socket (with the console token routes) and then the console, which calls the
 * socket's own handlers. A console that cannot start closes the admin socket and, by `abandon`,
 * the client port: a refused start leaves nothing running.
 */
export async function openAdminAndConsole(
  deps: ConsoleDepsIn,
  socket: {
    endpoint: AdminEndpoint;
    limits: ConnectionLimits;
    connections: () => ConnectionStats;
    checkpoints: () => CheckpointStats;
    onPortChange: (port: number) => Promise<void>;
  },
  console: ConsoleOptions | undefined,
  abandon: () => void,
): Promise<{ admin: Server; web: RunningConsole | undefined }> {
  const { host, dns, log } = deps;
  const now = () => deps.clock.now();
  const tokens = new ConsoleTokens(deps.db);
  const sessions = new ConsoleSessions({ now, cookie: HOST_CONSOLE_COOKIE });
  const routes = adminRoutes(host, socket.onPortChange, socket.limits, socket.connections, socket.checkpoints, dns);
  let web: RunningConsole | undefined;
  const admin = adminServer(
    host,
    socket.onPortChange,
    log,
    socket.limits,
    socket.connections,
    socket.checkpoints,
    dns,
    tokenAdminRoutes(tokens, sessions, now, () => web?.url ?? null),
  );
  await listenAdmin(admin, socket.endpoint);
  try {
    web = console && (await startHostConsole(console, deps, tokens, sessions, routes));
  } catch (err) {
    admin.close();
    abandon();
    throw err;
  }
  return { admin, web };
}
