/**
 * npm run attack:idle — a flood of idle and half-sent connections against the host's client
 * port and the authority, while a normal client goes on activating. Half the flood connects and
 * says nothing; the other half sends half a request line ("POST /v1/act") and stops. They come
 * from many loopback addresses (127.77.x.y), 50 each, below the per-address cap, so that what
 * must close them is the 10-second header deadline, not a refusal.
 *
 * Pass: every normal request is answered with 200 during the flood; every flood connection is
 * closed by the server within the deadline (10 s, plus 1 s for Node's check and 2 s of slack);
 * afterwards the server's open file descriptors are back near where they started, and it serves.
 *
 *   node attack/dist/idle.js [--connections 5000] [--target host|authority|both] [--per-address 50]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { hashedFingerprint } from '@volact/protocol';
import { report, residentMb, type Check } from './report.js';
import { cleanup, makeWorld, openFds, percentile, median, type World } from './world.js';

const HEADER_DEADLINE_MS = 10_000;
// Node checks the deadlines every second; 2 s more of slack for a loaded machine
const CLOSE_BOUND_MS = HEADER_DEADLINE_MS + 3_000;

const { values } = parseArgs({
  options: {
    connections: { type: 'string', default: '5000' },
    target: { type: 'string', default: 'both' },
    'per-address': { type: 'string', default: '50' },
  },
});
const CONNECTIONS = Number(values.connections);
const PER_ADDRESS = Number(values['per-address']);
if (
  !Number.isSafeInteger(CONNECTIONS) ||
  CONNECTIONS < 2 ||
  !Number.isSafeInteger(PER_ADDRESS) ||
  PER_ADDRESS < 1 ||
  !['host', 'authority', 'both'].includes(values.target!)
) {
  process.stderr.write(
    'usage: node attack/dist/idle.js [--connections N>=2] [--target host|authority|both] [--per-address N>=1]\n',
  );
  process.exit(2);
}

type Flood = {
  sockets: Socket[];
  failed: number;
  closedAfterMs: number[];
  refused: () => number;
  stillOpen: () => number;
};

/** Opens the flood: half silent, half with half a request line; records when the server closes each. */
async function flood(port: number): Promise<Flood> {
  const sockets: Socket[] = [];
  const closedAfterMs: number[] = [];
  let refused = 0;
  let failed = 0;
  const one = (i: number) =>
    new Promise<void>((resolve) => {
      const n = Math.floor(i / PER_ADDRESS);
      const localAddress = `127.77.${Math.floor(n / 250)}.${(n % 250) + 1}`;
      const socket = connect({ port, host: '127.0.0.1', localAddress });
      let openedAt = 0;
      let answered = '';
      socket.setNoDelay(true);
      socket.on('data', (c: Buffer) => (answered += c.toString('latin1')));
      socket.once('connect', () => {
        openedAt = performance.now();
        if (i % 2) socket.write('POST /v1/act');
        sockets.push(socket);
        resolve();
      });
      socket.once('error', () => {
        if (!openedAt) {
          failed++;
          resolve();
        }
      });
      socket.once('close', () => {
        if (!openedAt) return;
        if (answered.startsWith('HTTP/1.1 503')) refused++;
        else closedAfterMs.push(performance.now() - openedAt);
      });
    });
  for (let i = 0; i < CONNECTIONS; i += 250)
    await Promise.all(Array.from({ length: Math.min(250, CONNECTIONS - i) }, (_, k) => one(i + k)));
  return {
    sockets,
    failed,
    closedAfterMs,
    refused: () => refused,
    stillOpen: () => sockets.filter((s) => !s.closed).length,
  };
}

type Call = { status: number; ms: number };

/** One normal request on a connection of its own, as a client machine makes it. */
function normalRequest(port: number, path: string, body: string): Promise<Call> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' },
        timeout: 15_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, ms: performance.now() - started }));
    req.end(body);
  });
}

function hostBody(world: World): string {
  return JSON.stringify({
    v: 1,
    machineId: randomUUID(),
    fingerprintHash: randomBytes(32).toString('base64url'),
    setupKey: world.setupKeys['desk-pro'],
    nonce: randomBytes(18).toString('base64url'),
    clientTime: Date.now(),
    licenseState: 'initialGrace',
    vm: false,
  });
}

function makBody(world: World): string {
  const seed = randomBytes(9).toString('base64url');
  return JSON.stringify({
    v: 1,
    makKey: world.makKey,
    machineId: `idle-${seed}`,
    parts: hashedFingerprint({ osId: seed, cpu: 'cpu', board: seed, disks: [seed], nics: [seed] }),
    nonce: randomBytes(18).toString('base64url'),
  });
}

async function attack(
  name: 'host' | 'authority',
  world: World,
): Promise<{ figures: Record<string, unknown>; checks: Check[] }> {
  const server = name === 'host' ? world.host : world.authority;
  const pid = server.child.pid!;
  const [path, body] =
    name === 'host'
      ? (['/v1/activate', () => hostBody(world)] as const)
      : (['/v1/mak-activations', () => makBody(world)] as const);
  const fdsBefore = openFds(pid);
  const rssBefore = residentMb(pid);
  const started = performance.now();
  const f = await flood(server.port);
  const openedMs = performance.now() - started;
  let fdsPeak = openFds(pid);
  // the normal client goes on until the flood is gone (or the bound has passed for all)
  const calls: Call[] = [];
  while (f.stillOpen() > 0 && performance.now() - started < openedMs + CLOSE_BOUND_MS + 3000) {
    calls.push(await normalRequest(server.port, path, body()));
    if (calls.length % 50 === 0) fdsPeak = Math.max(fdsPeak, openFds(pid));
  }
  await new Promise((r) => setTimeout(r, 500));
  const stillOpen = f.stillOpen();
  for (const s of f.sockets) s.destroy();
  await new Promise((r) => setTimeout(r, 500));
  const after = await normalRequest(server.port, path, body());
  const fdsAfter = openFds(pid);
  const ok = calls.filter((c) => c.status === 200).length;
  const latencies = calls.map((c) => c.ms);
  const closed = f.closedAfterMs;
  const figures = {
    target: name,
    floodConnections: f.sockets.length,
    floodConnectFailures: f.failed,
    floodRefused: f.refused(),
    openedInMs: Math.round(openedMs),
    closedByServer: closed.length,
    closedAfterMs: {
      min: Math.round(Math.min(...closed)),
      median: Math.round(median(closed)),
      max: Math.round(Math.max(...closed)),
    },
    stillOpenAfterBound: stillOpen,
    normalRequests: calls.length,
    normal200: ok,
    normalP50Ms: Number(percentile(latencies, 50).toFixed(2)),
    normalP99Ms: Number(percentile(latencies, 99).toFixed(2)),
    serverFds: { before: fdsBefore, peak: fdsPeak, after: fdsAfter },
    serverRssMb: { before: Math.round(rssBefore), after: Math.round(residentMb(pid)) },
  };
  const checks: Check[] = [
    {
      name: `${name}: flood opened`,
      ok: f.sockets.length >= CONNECTIONS * 0.99,
      detail: `${f.sockets.length} of ${CONNECTIONS} connections open (${f.failed} failed to connect)`,
    },
    {
      name: `${name}: normal client served during the flood`,
      ok: calls.length > 0 && ok === calls.length,
      detail: `${ok} of ${calls.length} answered 200, p50 ${figures.normalP50Ms} ms, p99 ${figures.normalP99Ms} ms`,
    },
    {
      name: `${name}: idle and half-sent connections closed on time`,
      ok: stillOpen === 0 && closed.length >= f.sockets.length && Math.max(...closed) <= CLOSE_BOUND_MS,
      detail: `${closed.length} closed by the server, the last after ${figures.closedAfterMs.max} ms (bound ${CLOSE_BOUND_MS}); ${stillOpen} still open`,
    },
    {
      name: `${name}: file descriptors released`,
      ok: fdsAfter <= fdsBefore + 20,
      detail: `${fdsBefore} before, ${fdsPeak} at the peak, ${fdsAfter} after`,
    },
    {
      name: `${name}: still serves and never crashed`,
      ok: after.status === 200 && !server.exited(),
      detail: `a request after the flood: ${after.status}`,
    },
  ];
  return { figures, checks };
}

let code = 1;
try {
  const world = await makeWorld('volact-idle-');
  const targets =
    values.target === 'both' ? (['host', 'authority'] as const) : ([values.target] as ['host' | 'authority']);
  const figures: Record<string, unknown> = {
    connections: CONNECTIONS,
    perAddress: PER_ADDRESS,
    headerDeadlineMs: HEADER_DEADLINE_MS,
  };
  const checks: Check[] = [];
  for (const t of targets) {
    const r = await attack(t, world);
    figures[t] = r.figures;
    checks.push(...r.checks);
  }
  code = report('idle flood', figures, checks);
} catch (err) {
  process.stderr.write(`attack:idle failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await cleanup();
}
process.exit(code);
