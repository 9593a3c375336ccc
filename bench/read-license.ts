/**
 * npm run bench:read — how long a product waits for readLicense on an activated client (MAK),
 * the call the publisher's product makes at start. A report: it prints figures and exits 0.
 *
 * Setup as bench:cli (activated-client.ts): an authority on loopback, one client activated
 * through the CLI, the authority closed before anything is measured.
 *
 * - Warm: BENCH_CALLS (500) calls in this process after 20 discarded; median and p99 per call.
 * - Cold: BENCH_RUNS (20) fresh processes (after 3 discarded), each timing inside itself the
 *   import of @volact/client/read and its first call, against a bare `node -e 0` run alternately
 *   (wall time, spawn to exit), so the cost a product adds to its own start is visible.
 *
 * Every call must read "licensed", and the state directory must be unchanged after all of them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readLicense } from '@volact/client/read';
import { ROOT, activatedClient } from './activated-client.js';

const CALLS = Math.max(1, Number(process.env.BENCH_CALLS) || 500);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS) || 20);

const median = (xs: number[]) => quantile(xs, 0.5);
function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

const snapshot = (dir: string) =>
  readdirSync(dir)
    .sort()
    .map((f) => `${f} ${statSync(join(dir, f)).mtimeMs} ${readFileSync(join(dir, f), 'utf8')}`)
    .join('\n');

/** What a fresh product process measures itself: the import, then the first call. */
const CHILD = `
const t0 = performance.now();
const { readLicense } = await import('@volact/client/read');
const t1 = performance.now();
const s = readLicense({ stateDir: process.env.VOLACT_STATE_DIR });
const t2 = performance.now();
if (s.state !== 'licensed') throw new Error('not licensed: ' + s.reason);
console.log(JSON.stringify({ importMs: t1 - t0, callMs: t2 - t1 }));
`;

function wall(args: string[], env: NodeJS.ProcessEnv): { ms: number; stdout: string } {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, cwd: ROOT, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0) throw new Error(`node ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

function warm(stateDir: string): number[] {
  const call = () => {
    const t = performance.now();
    const s = readLicense({ stateDir });
    const ms = performance.now() - t;
    if (s.state !== 'licensed') throw new Error(`not licensed: ${s.reason}`);
    return ms;
  };
  for (let i = 0; i < 20; i++) call();
  return Array.from({ length: CALLS }, call);
}

function cold(env: NodeJS.ProcessEnv) {
  const runs: { importMs: number; callMs: number; wallMs: number; nodeMs: number }[] = [];
  for (let i = 0; i < RUNS + 3; i++) {
    const node = wall(['-e', '0'], env);
    const child = wall(['--input-type=module', '-e', CHILD], env);
    if (i >= 3) runs.push({ ...JSON.parse(child.stdout), wallMs: child.ms, nodeMs: node.ms });
  }
  return runs;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'volact-bench-read-'));
  try {
    const state = await activatedClient(tmp);
    const env: NodeJS.ProcessEnv = { ...process.env, VOLACT_STATE_DIR: state };
    delete env.NODE_ENV;
    delete env.VOLACT_TEST_CLOCK;
    const before = snapshot(state);
    const w = warm(state);
    const c = cold(env);
    if (snapshot(state) !== before) throw new Error('readLicense changed the state directory');
    const f = (ms: number) => `${ms.toFixed(2)} ms`;
    const m = (k: keyof (typeof c)[number]) => median(c.map((r) => r[k]));
    console.log(`readLicense on an activated client (MAK), node ${process.version}`);
    console.log(`  warm, ${CALLS} calls in one process: median ${f(median(w))}, p99 ${f(quantile(w, 0.99))}`);
    console.log(`  cold, ${RUNS} fresh processes (medians):`);
    console.log(`    import @volact/client/read: ${f(m('importMs'))}`);
    console.log(`    first readLicense call:     ${f(m('callMs'))}`);
    console.log(`    whole process (wall):       ${f(m('wallMs'))} against node -e 0: ${f(m('nodeMs'))}`);
    console.log('  the state directory is unchanged after every call');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
