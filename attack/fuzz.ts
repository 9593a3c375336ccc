/**
 * npm run attack:fuzz — seeded malformed requests against every public and admin endpoint of a
 * real activation host (client port and admin socket) and a real authority (public and admin
 * API). Pass: no 5xx answer, no crash, no hang, no internal error logged, every row change
 * explained by an accepted answer, ordinary requests answered afterwards, resident memory within
 * the bound. See attack/README.md.
 *
 *   node attack/dist/fuzz.js [--cases 100000] [--seed S] [--target all|host|host-client|host-admin|authority,…]
 *     [--case N] [--first N] [--concurrency 16] [--timeout 10000] [--block 250]
 *     [--memory-bound 64] [--verbose] [--keep]
 */
import { rmSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { makeCase } from './fuzz-cases.js';
import { ENDPOINTS, type Target } from './fuzz-endpoints.js';
import { excerpt, requestOf } from './fuzz-failures.js';
import { MemoryWatch, normalRequests, rounded } from './fuzz-health.js';
import { RowCounter } from './fuzz-rows.js';
import { Runner } from './fuzz-runner.js';
import { makeWorld } from './fuzz-world.js';
import { tempDir, type Service } from './harness.js';
import { report, residentMb, type Check } from './report.js';

const USAGE = `usage: node attack/dist/fuzz.js [--cases 100000] [--seed S] [--case N] [--first N]
  [--target all|host|host-client|host-admin|authority,...] [--concurrency 16] [--timeout 10000]
  [--block 250] [--memory-bound 64] [--verbose] [--keep]   (see attack/README.md)`;

const args = () =>
  parseArgs({
    options: {
      cases: { type: 'string', default: '100000' },
      seed: { type: 'string' },
      case: { type: 'string' },
      first: { type: 'string', default: '0' },
      target: { type: 'string', default: 'all' },
      concurrency: { type: 'string', default: '16' },
      timeout: { type: 'string', default: '10000' },
      block: { type: 'string', default: '250' },
      'memory-bound': { type: 'string', default: '64' },
      verbose: { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  });
let a: ReturnType<typeof args>['values'];
try {
  a = args().values;
} catch (err) {
  console.error(`${(err as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (a.help) {
  console.log(USAGE);
  process.exit(0);
}
const int = (name: string, v: string | undefined) => {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`--${name} takes a non-negative integer, not ${v}\n${USAGE}`);
    process.exit(2);
  }
  return n;
};
const seed = a.seed === undefined ? Date.now() % 1_000_000_000 : int('seed', a.seed);
const single = a.case === undefined ? undefined : int('case', a.case);
const first = single ?? int('first', a.first);
const cases = single === undefined ? int('cases', a.cases) : 1;
// host: its client port and its admin socket; host-client and host-admin: one of them
const TARGETS: Record<string, Target[]> = {
  all: ['host', 'admin', 'authority'],
  host: ['host', 'admin'],
  'host-client': ['host'],
  'host-admin': ['admin'],
  authority: ['authority'],
};
const picked = a.target.split(',').map((t) => TARGETS[t]);
if (picked.some((t) => t === undefined)) {
  console.error(`--target is a comma-separated list of ${Object.keys(TARGETS).join(', ')}\n${USAGE}`);
  process.exit(2);
}
const targets = [...new Set(picked.flat())] as Target[];
const endpoints = ENDPOINTS.filter((e) => targets.includes(e.target));
// Resident memory may grow by this much after the warm-up (the first quarter of the cases, at most
// 5,000). In the warm-up V8 grows its heap to what the largest requests need (1 MB bodies, parsed
// and validated, 16 at a time; scrypt's 16 MB working set): 50 to 80 MB in measured runs, then
// flat within about 20 MB. A leak of 1 KB per request shows well before the end of a full run.
const WARM_UP_CASES = 5000;
const boundMb = int('memory-bound', a['memory-bound']);

const tmp = tempDir('volact-fuzz-');
const services: Service[] = [];
let runner: Runner | undefined;
// last resort on any exit: no process and no directory is left behind
process.on('exit', () => {
  for (const s of services) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
  if (!a.keep) rmSync(tmp.path, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: stopping the servers\n`);
    runner?.stop();
    void Promise.all(services.map((s) => s.stop())).finally(() => process.exit(130));
  });
}

async function main(): Promise<number> {
  const world = await makeWorld(tmp.path, (s) => services.push(s));
  if (a.keep) console.log(`state kept in ${tmp.path}`);
  if (single !== undefined)
    console.log(
      `case ${single} of seed ${seed}:\n  ${excerpt(requestOf(makeCase(seed, single, world.fixtures, endpoints)), 1_000_000)}`,
    );
  const rows = new RowCounter({ host: world.hostDb, authority: world.authorityDb });
  const memory = new MemoryWatch(world);
  runner = new Runner(world, rows, {
    seed,
    first,
    endpoints,
    verbose: a.verbose || single !== undefined,
    concurrency: Math.max(1, int('concurrency', a.concurrency)),
    timeoutMs: int('timeout', a.timeout),
    block: Math.max(1, int('block', a.block)),
  });
  console.log(
    `volact fuzz: seed ${seed}, cases ${first}..${first + cases - 1}, target ${a.target} (${endpoints.length} endpoints)`,
  );
  const started = performance.now();
  let shown = 0;
  const progress = (done: number) => {
    if (done - shown >= cases / 10 || done === cases) {
      shown = done;
      const rss = world.servers.map((x) => `${x.name} ${residentMb(x.pid).toFixed(0)} MB`).join(', ');
      console.log(
        `  ${done} cases, ${((done / (performance.now() - started)) * 1000).toFixed(0)}/s, 5xx ${runner!.stats.fiveXx}, failures ${runner!.stats.failures.length}, resident ${rss}`,
      );
    }
  };
  const warmUp = first + Math.min(Math.floor(cases / 4), WARM_UP_CASES);
  await runner.run(first, warmUp, progress);
  memory.warm();
  await runner.run(warmUp, first + cases, progress);
  const seconds = (performance.now() - started) / 1000;
  const afterwards = runner.crashed ? ['a server exited'] : await normalRequests(world);
  const mem = await memory.finish();
  runner.stop();
  rows.close();
  await world.stop();

  const s = runner.stats;
  const figures = {
    seed,
    cases: s.cases,
    seconds: Number(seconds.toFixed(1)),
    casesPerSecond: Math.round(s.cases / seconds),
    viaHttp: s.http,
    viaRawSocket: s.raw,
    answers: s.answers,
    accepted: s.accepted,
    statuses: s.statuses,
    fiveXx: s.fiveXx,
    crashes: s.crashes,
    leaks: s.leaks,
    hangs: s.hangs,
    noAnswer: s.noAnswer,
    closedWithoutAnswer: s.closedWithoutAnswer,
    loggedErrors: s.loggedErrors,
    rowChecks: s.rowChecks,
    unexplainedRowChanges: s.unexplainedRows,
    normalRequestAnswered: afterwards.length === 0,
    memory: rounded(mem),
    memoryBoundMb: boundMb,
    failures: s.failures.length,
    failuresByKind: Object.fromEntries(
      [...new Set(s.failures.map((x) => x.kind))].map((k) => [k, s.failures.filter((x) => x.kind === k).length]),
    ),
    firstFailures: s.failures
      .slice(0, 5)
      .map((f) => ({ kind: f.kind, case: f.case, label: f.label.slice(0, 200), replay: f.replay })),
  };
  const memoryOk = Object.values(mem).every((m) => m.afterMb <= m.warmMb + boundMb);
  const checks: Check[] = [
    { name: 'all cases ran', ok: s.cases >= cases, detail: `${s.cases} of ${cases}` },
    { name: 'no 5xx answer', ok: s.fiveXx === 0, detail: `${s.fiveXx}` },
    { name: 'no crash', ok: s.crashes === 0, detail: `${s.crashes}` },
    { name: 'no error answer shows internals', ok: s.leaks === 0, detail: `${s.leaks}` },
    {
      name: 'every request answered',
      ok: s.hangs === 0 && s.noAnswer === 0 && !s.failures.some((f) => f.kind === 'unresponsive'),
      detail: `${s.hangs} hangs, ${s.noAnswer} well-formed requests closed without an answer`,
    },
    { name: 'no internal error logged', ok: s.loggedErrors === 0, detail: `${s.loggedErrors}` },
    {
      name: 'row changes explained by accepted answers',
      ok: s.unexplainedRows === 0 && s.rowChecks > 0,
      detail: `${s.rowChecks} checks, ${s.unexplainedRows} unexplained`,
    },
    {
      name: 'ordinary requests answered afterwards',
      ok: afterwards.length === 0,
      detail: afterwards.join('; ') || 'host grant, host status, authority health, admin API, MAK activation',
    },
    {
      name: `resident memory after within ${boundMb} MB of after the warm-up`,
      ok: memoryOk,
      detail: Object.entries(rounded(mem))
        .map(
          ([k, m]) => `${k} ${m.beforeMb} before, ${m.warmMb} after warm-up, ${m.afterMb} after (peak ${m.peakMb}) MB`,
        )
        .join('; '),
    },
  ];
  return report('volact fuzz', figures, checks);
}

let code = 1;
try {
  code = await main();
} catch (err) {
  console.error(`fuzz failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  await Promise.all(services.map((s) => s.stop()));
}
process.exit(code);
