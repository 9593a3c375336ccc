/**
 * npm run bench:host — activation requests per second against one activation host held to one
 * core (answering only after the activation is committed to SQLite), against the ceiling
 * measured in the same run: a bare node:http server on the same core signing a payload of the
 * same shape with Ed25519 (bench/ceiling-server.ts). Prints every run, the medians and the
 * ratio host/ceiling; the bar is 0.70. A report: exits 0 whether or not the bar is met.
 *
 * Layout on a 2-core machine: both servers pinned to core 0 (taskset -c 0), the load generator
 * (wrk -t1 -c50, keep-alive, a unique machine ID and nonce per request) to core 1. Runs
 * alternate ceiling and host; each is a warm-up (discarded) then a measured run. Only 200
 * answers count; non-2xx answers and socket errors are printed (they should be 0).
 *
 * Million-machine mode (`npm run bench:host -- --machines 1000000`, or BENCH_MACHINES): one run
 * of 90 s each, so the host's database grows past that many machines while it is measured; the
 * bar is then a ratio of 0.80 and a host p99 at most 4 times the ceiling's. It also prints the
 * host's peak resident memory under load, the time of -dlv with that many machines, and the
 * restart: time to listen, time to the first -dlv answer, and resident memory once idle.
 *
 * The access log: the host measured against the bar logs one JSON line per request (the default),
 * to a real file (host.log in the temporary directory), as an operator's service would. A second
 * host started with --access-log off runs in the same rounds (ceiling, host, host without the
 * access log), so the log's cost on the hot path is the ratio of the two medians. Not in
 * million-machine mode, where only the host with its access log runs.
 *
 * Tunables (environment): BENCH_RUNS=3 BENCH_SECONDS=8 BENCH_WARMUP=2 BENCH_CONNECTIONS=50
 * BENCH_LOADGEN=wrk|node (default: wrk when installed), BENCH_HOST_NODE_ARGS (extra node options
 * for the host process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it), BENCH_KEEP=1
 * (keep the temporary directory, e.g. to look into the host's database afterwards).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initKeys, openAuthority, runAuthority, sampleCatalogPath } from '@volact/authority';
import { defaults, systemClock } from '@volact/protocol';
import { silentLog } from '@volact/io';
import { makeLoad, type Load, type RunResult } from './load.js';
import {
  CLI,
  ROOT,
  cleanup,
  cleanups,
  cli,
  cores,
  pinned,
  pinning,
  quiet,
  startServer,
  wasInterrupted,
} from './procs.js';

const CEILING = join(ROOT, 'bench/dist/ceiling-server.js');

const envInt = (name: string, fallback: number) => {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
};
const cliMachines = process.argv.indexOf('--machines');
const MACHINES = Number(cliMachines > 0 ? process.argv[cliMachines + 1] : (process.env.BENCH_MACHINES ?? 0));
if (!Number.isSafeInteger(MACHINES) || MACHINES < 0) {
  process.stderr.write('usage: npm run bench:host [-- --machines N]\n');
  process.exit(2);
}
const LONG = MACHINES > 0;
const RUNS = envInt('BENCH_RUNS', LONG ? 1 : 3);
const SECONDS = envInt('BENCH_SECONDS', LONG ? 90 : 8);
const WARMUP = envInt('BENCH_WARMUP', 2);
const CONNECTIONS = envInt('BENCH_CONNECTIONS', 50);
const BAR = 0.7;
const LONG_BAR = 0.8;

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const rate = (r: RunResult) => r.ok / r.seconds;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

function activationRequest(setupKey: string) {
  return {
    v: 1,
    machineId: `probe-${randomBytes(8).toString('hex')}`,
    fingerprintHash: randomBytes(32).toString('base64url').slice(0, 43),
    setupKey,
    nonce: randomBytes(16).toString('base64url'),
    clientTime: Date.now(),
    licenseState: 'initialGrace',
    vm: false,
  };
}

function payloadOf(jws: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(jws.split('.')[1] ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
}

type Server = Awaited<ReturnType<typeof startServer>>;
type World = {
  tmp: string;
  authDir: string;
  hostDir: string;
  host: Server;
  hostUrl: string;
  /** the same host with --access-log off (not in million-machine mode) */
  quietUrl?: string;
  ceilingUrl: string;
  load: Load;
};

async function main(): Promise<void> {
  const world = await setUp();
  let seconds = SECONDS;
  if (LONG) seconds = await longRunSeconds(world);
  const rows = await measure(world, seconds);
  printTable(rows);
  printRatio(rows);
  if (LONG) await millionFigures(world, rows);
}

/** An authority (in this process), an activated host past its threshold, and the ceiling. */
async function setUp(): Promise<World> {
  const tmp = mkdtempSync(join(tmpdir(), 'volact-bench-'));
  if (process.env.BENCH_KEEP) cleanups.push(() => void process.stderr.write(`kept ${tmp}\n`));
  else cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));

  // The authority: keys, the sample catalog, a host key for the server group; served in this
  // process (it is only used for the host's activation, before any measurement).
  const authDir = join(tmp, 'authority');
  initKeys(authDir, systemClock.now());
  const opened = await openAuthority(authDir, systemClock);
  const catalog = await opened.authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'test');
  const setupKey = catalog.editions.find((e) => e.code === 'desk-pro')?.setupKey;
  if (!setupKey) throw new Error('the sample catalog has no desk-pro edition');
  const hostKey = (await opened.authority.issueHostKey('server-2026', {}, 'test')).key;
  await opened.close();
  const auth = await runAuthority(
    authDir,
    systemClock,
    0,
    undefined,
    undefined,
    undefined,
    undefined,
    {},
    {
      log: silentLog,
    },
  );
  cleanups.push(() => auth.close());
  const authorityUrl = `http://127.0.0.1:${auth.port}`;
  const load = makeLoad(tmp, setupKey, CONNECTIONS);

  const hostDir = join(tmp, 'host');
  const host = await startHost(hostDir, authDir, authorityUrl, hostKey, [], join(tmp, 'host.log'));
  const hostUrl = `http://127.0.0.1:${host.port}/v1/activate`;
  // its few lines (listening, stopped) go to a file too, so the two hosts differ in the switch alone
  const quietLog = join(tmp, 'host-quiet.log');
  const quiet = LONG
    ? undefined
    : await startHost(join(tmp, 'host-quiet'), authDir, authorityUrl, hostKey, ['--access-log', 'off'], quietLog);
  const quietUrl = quiet && `http://127.0.0.1:${quiet.port}/v1/activate`;
  const ceilingUrl = await startCeiling(tmp, hostUrl, setupKey);

  // Bring the host past the client threshold so measured answers are grants, then compare sizes.
  for (let i = 0; i < defaults.clientThreshold; i++) {
    await post(hostUrl, activationRequest(setupKey));
    if (quietUrl) await post(quietUrl, activationRequest(setupKey));
  }
  const hostGrant = await post(hostUrl, activationRequest(setupKey));
  const ceilingGrant = await post(ceilingUrl, activationRequest(setupKey));
  const hostType = JSON.parse(Buffer.from(JSON.parse(hostGrant.text).answer.split('.')[0], 'base64url').toString())
    .typ as string;

  console.log('volact bench: host activation vs. bare node:http + Ed25519 ceiling');
  console.log(
    `  node ${process.version}, ${cores} cores; servers ${pinning ? 'pinned to core 0' : 'NOT pinned (no taskset or one core)'}, load generator ${pinning ? 'on core 1' : 'unpinned'}`,
  );
  console.log(
    `  load: ${load.wrk ? `wrk -t1 -c${CONNECTIONS}` : `bench/load-gen (BENCH_LOADGEN=node, or no wrk), ${CONNECTIONS} connections`}, keep-alive, unique machineId and nonce per request`,
  );
  console.log(
    `  ${RUNS} runs x ${SECONDS} s after ${WARMUP} s warm-up each, alternating ceiling and host${quietUrl ? ' and host without access log' : ''}; only 200 answers counted`,
  );
  console.log(
    `  host: access log on, to a file (${join(tmp, 'host.log')})${quietUrl ? '; "host -log": the same with --access-log off' : ''}`,
  );
  console.log(`  answer bodies: host ${hostGrant.text.length} B (${hostType}), ceiling ${ceilingGrant.text.length} B`);
  console.log('');
  return { tmp, authDir, hostDir, host, hostUrl, quietUrl, ceilingUrl, load };
}

/**
 * An activation host in its own process, pinned to core 0, production clock, activated with
 * `hostKey`; all load comes from one address and BENCH_CONNECTIONS may pass the per-address cap,
 * so it is off. With `logFile`, its log (stderr) goes to that file.
 */
async function startHost(
  dir: string,
  authDir: string,
  authorityUrl: string,
  hostKey: string,
  extra: string[],
  logFile: string | undefined,
): Promise<Server> {
  const hostNodeArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [hcmd, hargs] = pinned(0, process.execPath, [
    ...hostNodeArgs,
    CLI,
    'host',
    'serve',
    '--state',
    dir,
    '--root',
    join(authDir, 'root.pub'),
    '--authority',
    authorityUrl,
    '--port',
    '0',
    '--listen',
    '127.0.0.1',
    '--name',
    'bench-host',
    // no console: its log verification at start would take a core from the measured host
    '--console-listen',
    'off',
    '--max-connections-per-address',
    '0',
    ...extra,
  ]);
  const host = await startServer(`activation host ${extra.join(' ')}`.trim(), hcmd, hargs, logFile);
  await cli(['slmgr', '--host', dir, '-ipk', hostKey]);
  await cli(['slmgr', '--host', dir, '-ato']);
  return host;
}

/** The ceiling server, answering with the certificate and issuer of one real answer of the host. */
async function startCeiling(tmp: string, hostUrl: string, setupKey: string): Promise<string> {
  const probe = await post(hostUrl, activationRequest(setupKey));
  if (probe.status !== 200) throw new Error(`the host answered ${probe.status}: ${probe.text}`);
  const real = JSON.parse(probe.text) as { answer: string; certificate: string; issuer: string };
  const realPayload = payloadOf(real.answer);
  const specPath = join(tmp, 'ceiling.json');
  writeFileSync(
    specPath,
    JSON.stringify({
      hostId: realPayload.hostId,
      hostName: realPayload.hostName,
      certificate: real.certificate,
      issuer: real.issuer,
      required: realPayload.required,
      renewalMinutes: realPayload.renewalMinutes,
      retryMinutes: realPayload.retryMinutes,
    }),
  );
  const ceiling = await startServer('ceiling server', ...pinned(0, process.execPath, [CEILING, specPath]));
  return `http://127.0.0.1:${ceiling.port}/v1/activate`;
}

/**
 * Million-machine mode: long enough for the host to reach that many machines (at least SECONDS),
 * from its rate in a warm-up; the ceiling runs as long, so the two stay comparable.
 */
async function longRunSeconds({ load, hostUrl }: World): Promise<number> {
  const warm = await load.run(hostUrl, WARMUP);
  const seconds = Math.max(SECONDS, Math.ceil((1.1 * MACHINES) / rate(warm)));
  console.log(`  host warm-up: ${fmt(rate(warm))} req/s, so ${seconds} s a run to pass ${fmt(MACHINES)} machines`);
  return seconds;
}

type Row = { run: number; which: 'ceiling' | 'host' | 'host -log'; r: RunResult };

/** RUNS runs, ceiling and host (and host without access log) in turn, each after a warm-up of its own. */
async function measure({ load, hostUrl, quietUrl, ceilingUrl }: World, seconds: number): Promise<Row[]> {
  const rows: Row[] = [];
  const servers: [Row['which'], string][] = [
    ['ceiling', ceilingUrl],
    ['host', hostUrl],
  ];
  if (quietUrl) servers.push(['host -log', quietUrl]);
  for (let run = 1; run <= RUNS; run++) {
    // the two hosts swap places every run: a run's leftovers (the checkpoint thread, the log
    // being written out) fall on the next run's server, never always on the same one
    const order = run % 2 === 0 && servers.length === 3 ? [servers[0]!, servers[2]!, servers[1]!] : servers;
    for (const [which, url] of order) {
      await load.run(url, WARMUP);
      const r = await load.run(url, seconds);
      rows.push({ run, which, r });
      console.log(`  run ${run} ${which}: ${fmt(rate(r))} req/s`);
    }
  }
  return rows;
}

function printTable(rows: Row[]): void {
  const header = ['run', 'server', '200/s', '200s', 'non-2xx', 'sock err', 'p50 ms', 'p99 ms'];
  const lines = rows.map(({ run, which, r }) => [
    String(run),
    which,
    fmt(rate(r)),
    String(r.ok),
    String(r.non2xx + r.other),
    String(r.socketErrors),
    r.p50Ms.toFixed(2),
    r.p99Ms.toFixed(2),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const printRow = (cells: string[]) =>
    console.log('  ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  printRow(header);
  printRow(widths.map((w) => '-'.repeat(w)));
  for (const l of lines) printRow(l);
  console.log('');
}

/** The medians and their ratio against the bar. */
function printRatio(rows: Row[]): void {
  const ceilingMedian = median(rows.filter((x) => x.which === 'ceiling').map((x) => rate(x.r)));
  const hostMedian = median(rows.filter((x) => x.which === 'host').map((x) => rate(x.r)));
  const ratio = hostMedian / ceilingMedian;
  const bad = rows.reduce((n, x) => n + x.r.non2xx + x.r.other + x.r.socketErrors, 0);
  console.log(`  median ceiling (node:http + Ed25519, 1 core): ${fmt(ceilingMedian)} req/s`);
  console.log(`  median host (activation committed, 1 core):    ${fmt(hostMedian)} req/s`);
  const bar = LONG ? LONG_BAR : BAR;
  console.log(
    `  ratio host/ceiling = ${ratio.toFixed(2)} (bar ${bar.toFixed(2)}): ${ratio >= bar ? 'BAR MET' : 'BAR NOT MET'}`,
  );
  const quiet = rows.filter((x) => x.which === 'host -log').map((x) => rate(x.r));
  if (quiet.length) {
    const quietMedian = median(quiet);
    console.log(
      `  median host without access log (--access-log off): ${fmt(quietMedian)} req/s, ratio to the ceiling ${(quietMedian / ceilingMedian).toFixed(2)}`,
    );
    console.log(
      `  access log on/off = ${(hostMedian / quietMedian).toFixed(2)} (${hostMedian < quietMedian ? `the access log costs ${(100 * (1 - hostMedian / quietMedian)).toFixed(1)} % of the rate` : 'no cost measured: the host with its access log was not slower'}; its CPU per line: npm run bench:access-log)`,
    );
  }
  if (bad > 0) console.log(`  WARNING: ${bad} non-200 answers or socket errors in measured runs`);
}

/** Million-machine mode: the tail, memory, -dlv and a restart with that many machines. */
async function millionFigures({ host, hostDir }: World, rows: Row[]): Promise<void> {
  const hostP99 = median(rows.filter((x) => x.which === 'host').map((x) => x.r.p99Ms));
  const ceilingP99 = median(rows.filter((x) => x.which === 'ceiling').map((x) => x.r.p99Ms));
  const peakMb = procStatusMb(host.child.pid!, 'VmHWM');
  let t = performance.now();
  const status = JSON.parse(await cli(['slmgr', '--host', hostDir, '-dlv', '--json'])) as {
    currentCount: number;
    checkpoints?: { passes: number; drains: number; maxPassMs: number; maxDrainMs: number; walFrames: number };
  };
  const dlvMs = performance.now() - t;
  const dbMb = ['host.db', 'host.db-wal'].reduce((n, f) => n + fileMb(join(hostDir, f)), 0);
  quiet.add(host.child);
  host.child.kill('SIGTERM');
  await new Promise((r) => host.child.once('exit', r));
  t = performance.now();
  const again = await startServer(
    'activation host (restarted)',
    ...pinned(0, process.execPath, [
      CLI,
      'host',
      'serve',
      '--state',
      hostDir,
      '--port',
      '0',
      '--listen',
      '127.0.0.1',
      '--name',
      'bench-host',
      '--console-listen',
      'off',
    ]),
  );
  const listenMs = performance.now() - t;
  await cli(['slmgr', '--host', hostDir, '-dlv', '--json']);
  const firstDlvMs = performance.now() - t;
  t = performance.now();
  await cli(['slmgr', '--host', hostDir, '-dlv', '--json']);
  const dlvAfterRestartMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 2000));
  const idleMb = procStatusMb(again.child.pid!, 'VmRSS');
  console.log('');
  console.log(
    `  machines in the host's database: ${fmt(status.currentCount)} (target ${fmt(MACHINES)}: ${status.currentCount >= MACHINES ? 'reached' : 'NOT reached; run longer with BENCH_SECONDS'}), database ${fmt(dbMb)} MB`,
  );
  const c = status.checkpoints;
  if (c)
    console.log(
      `  checkpoints (own thread): ${fmt(c.passes)} passes, the longest ${fmt(c.maxPassMs)} ms; ${c.drains} waits for a log restart, the longest ${fmt(c.maxDrainMs)} ms; ${fmt(c.walFrames)} frames in the log now`,
    );
  console.log(
    `  p99 host ${hostP99.toFixed(2)} ms, ceiling ${ceilingP99.toFixed(2)} ms: ${(hostP99 / ceilingP99).toFixed(1)}x (bar 4x): ${hostP99 <= 4 * ceilingP99 ? 'BAR MET' : 'BAR NOT MET'}`,
  );
  console.log(
    `  host resident memory: peak under load ${fmt(peakMb)} MB, idle after restart ${fmt(idleMb)} MB (bar 400 MB): ${Math.max(peakMb, idleMb) < 400 ? 'BAR MET' : 'BAR NOT MET'}`,
  );
  console.log(
    `  -dlv with ${fmt(status.currentCount)} machines: ${fmt(dlvMs)} ms (a whole CLI process); after the restart ${fmt(dlvAfterRestartMs)} ms`,
  );
  console.log(
    `  restart: listening after ${fmt(listenMs)} ms, first -dlv answer after ${fmt(firstDlvMs)} ms (bar 2,000 ms): ${firstDlvMs < 2000 ? 'BAR MET' : 'BAR NOT MET'}`,
  );
}

/** A memory figure of /proc/PID/status (VmRSS now, VmHWM the peak) in MB. */
function procStatusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

function fileMb(path: string): number {
  try {
    return statSync(path).size / 1024 / 1024;
  } catch {
    return 0;
  }
}

let code = 0;
try {
  await main();
} catch (err) {
  if (wasInterrupted()) await cleanup().then(() => process.exit(130));
  process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
