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
 * Tunables (environment): BENCH_RUNS=3 BENCH_SECONDS=8 BENCH_WARMUP=2 BENCH_CONNECTIONS=50
 * BENCH_LOADGEN=wrk|node (default: wrk when installed), BENCH_HOST_NODE_ARGS (extra node options
 * for the host process, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it), BENCH_KEEP=1
 * (keep the temporary directory, e.g. to look into the host's database afterwards).
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initKeys, openAuthority, runAuthority, sampleCatalogPath } from '@volact/authority';
import { defaults, systemClock } from '@volact/protocol';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'packages/cli/dist/main.js');
const CEILING = join(ROOT, 'bench/dist/ceiling-server.js');
const LOADGEN = join(ROOT, 'bench/dist/load-gen.js');

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
// processes and cleanup

const children = new Set<ChildProcess>();
/** Processes stopped on purpose: their exit is not an error. */
const quiet = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
let cleaned = false;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Stops every process this script started and removes the temporary directory (once). */
function cleanup(): Promise<void> {
  cleaning ??= stopAll();
  return cleaning;
}

async function stopAll(): Promise<void> {
  cleaned = true;
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const force = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = true;
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup().then(() => process.exit(130));
  });
}

const haveTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
const cores = availableParallelism();
const pinning = haveTaskset && cores >= 2;

/** Command line for a process pinned to one core (when taskset and two cores are there). */
function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/** Environment for the servers under test: production, never the test harness's fake clock. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.VOLACT_TEST_CLOCK;
  return env;
}

/** Spawns a long-running server and waits for its "listening on port N" line. */
function startServer(name: string, cmd: string, args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${out}`)), 20_000);
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = /listening on port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        resolvePort({ child, port: Number(m[1]), output: () => out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.length > 100_000) out = out.slice(-50_000);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      if (!cleaned && !quiet.has(child)) process.stderr.write(`${name} exited (${code ?? signal})\n${out.slice(-4000)}\n`);
      reject(new Error(`${name} exited with ${code ?? signal}:\n${out}`));
    });
  });
}

/** Runs a volact command; asynchronous, because the authority it may talk to runs in this process. */
function cli(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(process.execPath, [CLI, ...args], { cwd: ROOT, env: serverEnv(), encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) fail(new Error(`volact ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else done(stdout);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// load generation

type RunResult = { ok: number; non2xx: number; other: number; socketErrors: number; seconds: number; p50Ms: number; p99Ms: number };

const WRK_SCRIPT = `
local setupKey = "@SETUPKEY@"
local alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
local b64u = alnum .. "-_"
local hex = "0123456789abcdef"
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

local function rnd(set, n)
  local t = {}
  local len = #set
  for i = 1, n do
    local k = math.random(1, len)
    t[i] = set:sub(k, k)
  end
  return table.concat(t)
end

function init(args)
  ok = 0
  non2xx = 0
  other = 0
  seq = 0
  math.randomseed(tonumber(args[1]) or os.time())
  wrk.method = "POST"
  wrk.path = "/v1/activate"
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  seq = seq + 1
  -- random like the UUIDs clients make: an ID with a fixed prefix would land in one corner of
  -- an index on machine IDs and hide what random ones cost it
  local body = '{"v":1,"machineId":"' .. rnd(hex, 32) .. '-' .. seq ..
    '","fingerprintHash":"' .. rnd(b64u, 43) ..
    '","setupKey":"' .. setupKey ..
    '","nonce":"' .. rnd(b64u, 22) ..
    '","clientTime":' .. string.format("%.0f", os.time() * 1000) ..
    ',"licenseState":"initialGrace","vm":false}'
  return wrk.format(nil, nil, nil, body)
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  elseif status < 200 or status > 299 then
    non2xx = non2xx + 1
  else
    other = other + 1
  end
end

function done(summary, latency, requests)
  local o, n, x = 0, 0, 0
  for _, t in ipairs(threads) do
    o = o + t:get("ok")
    n = n + t:get("non2xx")
    x = x + t:get("other")
  end
  local e = summary.errors
  io.write(string.format("BENCH ok=%d non2xx=%d other=%d duration_us=%d socket_errors=%d p50_us=%d p99_us=%d\\n",
    o, n, x, summary.duration, e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(99)))
end
`;

let wrkScript = '';
let useWrk = false;

/** Runs a load generator to its end (tracked, so an interrupt kills it too). */
function runTool(cmd: string, args: string[], seconds: number): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('error', (err) => {
      stderr += String(err);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      children.delete(child);
      done({ status, stdout, stderr });
    });
  });
}

async function runWrk(url: string, seconds: number): Promise<RunResult> {
  const [cmd, args] = pinned(1, 'wrk', ['-t1', `-c${CONNECTIONS}`, `-d${seconds}s`, '-s', wrkScript, url, '--', String(randomBytes(4).readUInt32LE())]);
  const r = await runTool(cmd, args, seconds);
  const m = /BENCH ok=(\d+) non2xx=(\d+) other=(\d+) duration_us=(\d+) socket_errors=(\d+) p50_us=(\d+) p99_us=(\d+)/.exec(r.stdout ?? '');
  if (!m) throw new Error(`wrk failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const n = m.slice(1).map(Number) as number[];
  return { ok: n[0]!, non2xx: n[1]!, other: n[2]!, seconds: n[3]! / 1e6, socketErrors: n[4]!, p50Ms: n[5]! / 1000, p99Ms: n[6]! / 1000 };
}

async function runNodeLoad(url: string, seconds: number, setupKey: string): Promise<RunResult> {
  const [cmd, args] = pinned(1, process.execPath, [LOADGEN, url, String(seconds), String(CONNECTIONS), setupKey]);
  const r = await runTool(cmd, args, seconds);
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  let j: { ok: number; non2xx: number; other: number; errors: number; seconds: number; p50Ms: number; p99Ms: number };
  try {
    j = JSON.parse(line);
  } catch {
    throw new Error(`load generator failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  }
  return { ok: j.ok, non2xx: j.non2xx, other: j.other, socketErrors: j.errors, seconds: j.seconds, p50Ms: j.p50Ms, p99Ms: j.p99Ms };
}

/** wrk on the PATH; as root on Debian, installs the package once (apt-get install -y wrk). */
function haveWrk(): boolean {
  const found = () => spawnSync('wrk', ['-v'], { stdio: 'ignore' }).error === undefined;
  if (found()) return true;
  if (process.getuid?.() !== 0 || spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).error !== undefined) return false;
  console.log('wrk is not installed; trying apt-get install -y wrk');
  let r = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    r = spawnSync('apt-get', ['install', '-y', 'wrk'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  return found();
}

function load(url: string, seconds: number, setupKey: string): Promise<RunResult> {
  return useWrk ? runWrk(url, seconds) : runNodeLoad(url, seconds, setupKey);
}

// ---------------------------------------------------------------------------------------------

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const rate = (r: RunResult) => r.ok / r.seconds;
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

async function post(url: string, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
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

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'volact-bench-'));
  if (process.env.BENCH_KEEP) cleanups.push(() => void process.stderr.write(`kept ${tmp}\n`));
  else cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));

  useWrk = process.env.BENCH_LOADGEN !== 'node' && haveWrk();
  if (useWrk) {
    wrkScript = join(tmp, 'activate.lua');
  }

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
  const auth = await runAuthority(authDir, systemClock, 0);
  cleanups.push(() => auth.close());
  const authorityUrl = `http://127.0.0.1:${auth.port}`;
  if (useWrk) writeFileSync(wrkScript, WRK_SCRIPT.replace('@SETUPKEY@', setupKey));

  // The activation host under test: its own process, pinned to core 0, production clock; all load
  // comes from one address and BENCH_CONNECTIONS may pass the per-address cap, so it is off.
  const hostDir = join(tmp, 'host');
  const hostNodeArgs = (process.env.BENCH_HOST_NODE_ARGS ?? '').split(' ').filter(Boolean);
  const [hcmd, hargs] = pinned(0, process.execPath, [
    ...hostNodeArgs,
    CLI, 'host', 'serve', '--state', hostDir, '--root', join(authDir, 'root.pub'), '--authority', authorityUrl, '--port', '0', '--listen', '127.0.0.1', '--name', 'bench-host', '--max-connections-per-address', '0',
  ]);
  const host = await startServer('activation host', hcmd, hargs);
  await cli(['slmgr', '--host', hostDir, '-ipk', hostKey]);
  await cli(['slmgr', '--host', hostDir, '-ato']);
  const hostUrl = `http://127.0.0.1:${host.port}/v1/activate`;

  // One real answer: its certificate and issuer strings are reused by the ceiling.
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
  const [ccmd, cargs] = pinned(0, process.execPath, [CEILING, specPath]);
  const ceiling = await startServer('ceiling server', ccmd, cargs);
  const ceilingUrl = `http://127.0.0.1:${ceiling.port}/v1/activate`;

  // Bring the host past the client threshold so measured answers are grants, then compare sizes.
  for (let i = 0; i < defaults.clientThreshold; i++) await post(hostUrl, activationRequest(setupKey));
  const hostGrant = await post(hostUrl, activationRequest(setupKey));
  const ceilingGrant = await post(ceilingUrl, activationRequest(setupKey));
  const hostType = JSON.parse(Buffer.from(JSON.parse(hostGrant.text).answer.split('.')[0], 'base64url').toString()).typ as string;

  console.log('volact bench: host activation vs. bare node:http + Ed25519 ceiling');
  console.log(`  node ${process.version}, ${cores} cores; servers ${pinning ? 'pinned to core 0' : 'NOT pinned (no taskset or one core)'}, load generator ${pinning ? 'on core 1' : 'unpinned'}`);
  console.log(`  load: ${useWrk ? `wrk -t1 -c${CONNECTIONS}` : `bench/load-gen (wrk not available), ${CONNECTIONS} connections`}, keep-alive, unique machineId and nonce per request`);
  console.log(`  ${RUNS} runs x ${SECONDS} s after ${WARMUP} s warm-up each, alternating ceiling and host; only 200 answers counted`);
  console.log(`  answer bodies: host ${hostGrant.text.length} B (${hostType}), ceiling ${ceilingGrant.text.length} B`);
  console.log('');

  // million-machine mode: long enough for the host to reach that many machines (at least
  // SECONDS), from its rate in a warm-up; the ceiling runs as long, so the two stay comparable
  let seconds = SECONDS;
  if (LONG) {
    const warm = await load(hostUrl, WARMUP, setupKey);
    seconds = Math.max(SECONDS, Math.ceil((1.1 * MACHINES) / rate(warm)));
    console.log(`  host warm-up: ${fmt(rate(warm))} req/s, so ${seconds} s a run to pass ${fmt(MACHINES)} machines`);
  }
  const rows: { run: number; which: 'ceiling' | 'host'; r: RunResult }[] = [];
  for (let run = 1; run <= RUNS; run++) {
    for (const [which, url] of [['ceiling', ceilingUrl], ['host', hostUrl]] as const) {
      await load(url, WARMUP, setupKey);
      const r = await load(url, seconds, setupKey);
      rows.push({ run, which, r });
      console.log(`  run ${run} ${which}: ${fmt(rate(r))} req/s`);
    }
  }

  const header = ['run', 'server', '200/s', '200s', 'non-2xx', 'sock err', 'p50 ms', 'p99 ms'];
  const lines = rows.map(({ run, which, r }) => [String(run), which, fmt(rate(r)), String(r.ok), String(r.non2xx + r.other), String(r.socketErrors), r.p50Ms.toFixed(2), r.p99Ms.toFixed(2)]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const printRow = (cells: string[]) => console.log('  ' + cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
  printRow(header);
  printRow(widths.map((w) => '-'.repeat(w)));
  for (const l of lines) printRow(l);
  console.log('');

  const ceilingMedian = median(rows.filter((x) => x.which === 'ceiling').map((x) => rate(x.r)));
  const hostMedian = median(rows.filter((x) => x.which === 'host').map((x) => rate(x.r)));
  const ratio = hostMedian / ceilingMedian;
  const bad = rows.reduce((n, x) => n + x.r.non2xx + x.r.other + x.r.socketErrors, 0);
  console.log(`  median ceiling (node:http + Ed25519, 1 core): ${fmt(ceilingMedian)} req/s`);
  console.log(`  median host (activation committed, 1 core):    ${fmt(hostMedian)} req/s`);
  const bar = LONG ? LONG_BAR : BAR;
  console.log(`  ratio host/ceiling = ${ratio.toFixed(2)} (bar ${bar.toFixed(2)}): ${ratio >= bar ? 'BAR MET' : 'BAR NOT MET'}`);
  if (bad > 0) console.log(`  WARNING: ${bad} non-200 answers or socket errors in measured runs`);
  if (!LONG) return;

  // --- million-machine mode: the tail, memory, -dlv and a restart with that many machines ---
  const hostP99 = median(rows.filter((x) => x.which === 'host').map((x) => x.r.p99Ms));
  const ceilingP99 = median(rows.filter((x) => x.which === 'ceiling').map((x) => x.r.p99Ms));
  const pid = host.child.pid!;
  const peakMb = procStatusMb(pid, 'VmHWM');
  let t = performance.now();
  const status = JSON.parse(await cli(['slmgr', '--host', hostDir, '-dlv', '--json'])) as { currentCount: number; checkpoints?: { passes: number; drains: number; maxPassMs: number; maxDrainMs: number; walFrames: number } };
  const dlvMs = performance.now() - t;
  const dbMb = ['host.db', 'host.db-wal'].reduce((n, f) => n + fileMb(join(hostDir, f)), 0);
  quiet.add(host.child);
  host.child.kill('SIGTERM');
  await new Promise((r) => host.child.once('exit', r));
  t = performance.now();
  const again = await startServer('activation host (restarted)', ...pinned(0, process.execPath, [CLI, 'host', 'serve', '--state', hostDir, '--port', '0', '--listen', '127.0.0.1', '--name', 'bench-host']));
  const listenMs = performance.now() - t;
  await cli(['slmgr', '--host', hostDir, '-dlv', '--json']);
  const firstDlvMs = performance.now() - t;
  t = performance.now();
  await cli(['slmgr', '--host', hostDir, '-dlv', '--json']);
  const dlvAfterRestartMs = performance.now() - t;
  await new Promise((r) => setTimeout(r, 2000));
  const idleMb = procStatusMb(again.child.pid!, 'VmRSS');
  console.log('');
  console.log(`  machines in the host's database: ${fmt(status.currentCount)} (target ${fmt(MACHINES)}: ${status.currentCount >= MACHINES ? 'reached' : 'NOT reached; run longer with BENCH_SECONDS'}), database ${fmt(dbMb)} MB`);
  const c = status.checkpoints;
  if (c) console.log(`  checkpoints (own thread): ${fmt(c.passes)} passes, the longest ${fmt(c.maxPassMs)} ms; ${c.drains} waits for a log restart, the longest ${fmt(c.maxDrainMs)} ms; ${fmt(c.walFrames)} frames in the log now`);
  console.log(`  p99 host ${hostP99.toFixed(2)} ms, ceiling ${ceilingP99.toFixed(2)} ms: ${(hostP99 / ceilingP99).toFixed(1)}x (bar 4x): ${hostP99 <= 4 * ceilingP99 ? 'BAR MET' : 'BAR NOT MET'}`);
  console.log(`  host resident memory: peak under load ${fmt(peakMb)} MB, idle after restart ${fmt(idleMb)} MB (bar 400 MB): ${Math.max(peakMb, idleMb) < 400 ? 'BAR MET' : 'BAR NOT MET'}`);
  console.log(`  -dlv with ${fmt(status.currentCount)} machines: ${fmt(dlvMs)} ms (a whole CLI process); after the restart ${fmt(dlvAfterRestartMs)} ms`);
  console.log(`  restart: listening after ${fmt(listenMs)} ms, first -dlv answer after ${fmt(firstDlvMs)} ms (bar 2,000 ms): ${firstDlvMs < 2000 ? 'BAR MET' : 'BAR NOT MET'}`);
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
  if (interrupted) await cleanup().then(() => process.exit(130));
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
  code = 1;
} finally {
  await cleanup();
}
process.exit(code);
