import { createServer, type Server } from 'node:https';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import {
  consoleStatic,
  guardConnections,
  listenOn,
  parseListenSpec,
  router,
  serverTimeouts,
  setSecurityHeaders,
  defaultConnectionLimits,
  type Handler,
  type Log,
} from '@volact/io';
import type { ConsoleCertificate } from './console-cert.js';

/** `--console-listen`: where the console listens; null is `off`. */
export type ConsoleAddress = { host: string; port: number };

/** Loopback by default: operators on this machine, or through an SSH tunnel. */
export const DEFAULT_CONSOLE_LISTEN = '127.0.0.1:1690';

/** `--console-listen ADDRESS:PORT|off`: IPv4:PORT, localhost:PORT or [IPv6]:PORT. */
export function parseConsoleListen(spec: string): ConsoleAddress | null {
  return parseListenSpec(spec, '--console-listen', '127.0.0.1:1690, [::1]:1690, 0.0.0.0:1690');
}

/** The built host console (packages/console/dist/host), or undefined when it is not built or installed. */
export function builtConsoleDir(): string | undefined {
  try {
    const pkg = createRequire(import.meta.url).resolve('@volact/console/package.json');
    const dir = join(dirname(pkg), 'dist', 'host');
    return existsSync(join(dir, 'index.html')) ? dir : undefined;
  } catch {
    return undefined;
  }
}

export type ConsoleListener = { server: Server; address: ConsoleAddress; url: string; close: () => Promise<void> };

export const consoleUrl = (a: ConsoleAddress) =>
  `https://${a.host.includes(':') ? `[${a.host}]` : a.host === '0.0.0.0' ? '127.0.0.1' : a.host}:${a.port}/`;

/**
 * The console's HTTPS listener: the API under /api/ (console-routes.ts), the built page
 * everywhere else, security headers (CSP, nosniff, no framing) on every answer. An address the
 * operator gave that cannot be bound refuses the start (PORT_UNAVAILABLE); the default one taken
 * (another host on this machine) only warns, and the host runs without its console.
 */
export async function listenConsole(
  routes: Record<string, Handler>,
  certificate: ConsoleCertificate,
  address: ConsoleAddress,
  explicit: boolean,
  log: Log,
): Promise<ConsoleListener | undefined> {
  const files = consoleStatic(builtConsoleDir(), '/');
  const handle = router(
    routes,
    log,
    undefined,
    (req, res, url) => !url.pathname.startsWith('/api/') && files(req, res, url),
  );
  const limits = { ...defaultConnectionLimits, perAddress: 64, total: 256 };
  const server = createServer(
    // TLS 1.2 at least, whatever NODE_OPTIONS (--tls-min-v1.0) the service runs with
    { cert: certificate.cert, key: certificate.key, minVersion: 'TLSv1.2', ...serverTimeouts(limits) },
    (req, res) => {
      setSecurityHeaders(res);
      res.setHeader('cache-control', 'no-store');
      // no Strict-Transport-Security: the console is usually https://localhost or 127.0.0.1 with
      // a self-signed certificate, and HSTS on localhost would force HTTPS on every local port
      handle(req, res);
    },
  );
  guardConnections(server, limits, { tls: true }); // a refused connection is closed, never sent plain HTTP
  try {
    await listenOn(server, address.port, address.host, '--console-listen');
  } catch (err) {
    if (explicit) throw err;
    log.warn({ address: `${address.host}:${address.port}` }, `host console not started: ${(err as Error).message}`);
    return undefined;
  }
  const bound = { host: address.host, port: (server.address() as { port: number }).port };
  return {
    server,
    address: bound,
    url: consoleUrl(bound),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
