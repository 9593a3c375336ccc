/**
 * npm run bench:cli — how long `volact slmgr -dli` takes on an activated client, against a bare
 * `node -e 0` measured in the same run. Prints both medians and the ratio; the bar is 2.5 (a
 * status must not load the authority, the host, the databases or the directory client). A
 * report: exits 0 whether or not the bar is met.
 *
 * Setup, in a temporary directory: an authority in this process (keys, the sample catalog, a
 * MAK for desk-pro) served on loopback, and one client activated through the CLI with that MAK
 * (client trust, -ipk, -ato). The authority is closed before anything is measured: -dli reads
 * only the machine's own state.
 *
 * Measurement: BENCH_RUNS (20) runs of each, alternating `node -e 0` and `volact slmgr -dli`
 * (the installed bin, bin/volact.js, with VOLACT_STATE_DIR set as an operator would), after 3
 * warm-up runs of each (discarded: the first reads come from disk). Wall time of the whole
 * process, from spawn to exit. Every -dli run must exit 0 and say "Licensed".
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN, activatedClient } from './activated-client.js';

const RUNS = Math.max(1, Number(process.env.BENCH_RUNS) || 20);
const WARMUP = 3;
const BAR = 2.5;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs a process to its end; returns its wall time in milliseconds, failing on a non-zero exit. */
function timed(args: string[], env: NodeJS.ProcessEnv, expect?: RegExp): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (r.status !== 0 || (expect && !expect.test(r.stdout)))
    throw new Error(`${args.join(' ')} failed (${r.status}): ${r.stderr}${r.stdout}`);
  return ms;
}

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'volact-bench-cli-'));
  try {
    const state = await activatedClient(tmp);
    const env: NodeJS.ProcessEnv = { ...process.env, VOLACT_STATE_DIR: state };
    delete env.NODE_ENV;
    const bare = () => timed(['-e', '0'], env);
    const dli = () => timed([BIN, 'slmgr', '-dli'], env, /License Status: Licensed/);
    for (let i = 0; i < WARMUP; i++) (bare(), dli());
    const nodeMs: number[] = [];
    const dliMs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      nodeMs.push(bare());
      dliMs.push(dli());
    }
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(0)).join(' ');
    console.log(
      `volact slmgr -dli on an activated client (MAK), ${RUNS} runs each, alternating, node ${process.version}`,
    );
    console.log(`  node -e 0 (ms):        ${fmt(nodeMs)}`);
    console.log(`  volact slmgr -dli (ms): ${fmt(dliMs)}`);
    const nodeMedian = median(nodeMs);
    const dliMedian = median(dliMs);
    const ratio = dliMedian / nodeMedian;
    console.log(`  median node -e 0:        ${nodeMedian.toFixed(1)} ms`);
    console.log(`  median volact slmgr -dli: ${dliMedian.toFixed(1)} ms`);
    console.log(
      `  ratio -dli/node = ${ratio.toFixed(2)} (bar ${BAR.toFixed(2)}): ${ratio <= BAR ? 'BAR MET' : 'BAR NOT MET'}`,
    );
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
