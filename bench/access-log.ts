/**
 * node bench/dist/access-log.js — the CPU time one access-log line costs in the server process:
 * the request observer's record formatted by pino and written asynchronously to a real file
 * (as `host serve` does to its standard error when that is a file or the journal). Rounds of
 * 20,000 lines each, timed in process CPU time (user + system) until every line is written, so
 * other load on the machine changes the figure little; prints each round and the median in µs
 * per line, and that median as a share of one activation at 13,000 requests a second.
 *
 * Tunables (environment): BENCH_ROUNDS=9 BENCH_LINES=20000. Run it with `npm run bench:access-log`.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { accessLog, roleLogger } from '@volact/io';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const LINES = Number(process.env.BENCH_LINES ?? 20_000);
const REFERENCE_RATE = 13_000; // req/s of the host on one core in bench:host (docs/performance.md)

const dir = mkdtempSync(join(tmpdir(), 'volact-access-log-'));
try {
  const file = join(dir, 'host.log');
  const log = roleLogger('host', file);
  const observe = accessLog(log);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000; // ms
  };
  const perLine: number[] = [];
  for (let round = 0; round <= ROUNDS; round++) {
    const start = cpu();
    for (let i = 0; i < LINES; i++)
      observe({
        method: 'POST',
        route: 'POST /v1/activate',
        status: 200,
        seconds: 0.000731 + i * 1e-9,
        peer: '10.20.30.40',
        requestId: `5f0c2a1b-${(round * LINES + i).toString(36)}`,
      });
    await log.drain();
    const us = ((cpu() - start) * 1000) / LINES;
    if (round > 0) perLine.push(us); // round 0 warms up
    if (round > 0) console.log(`  round ${round}: ${us.toFixed(2)} µs CPU per line`);
  }
  const sorted = [...perLine].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const budget = 1e6 / REFERENCE_RATE;
  console.log(
    `  median ${median.toFixed(2)} µs CPU per access-log line (${LINES} lines a round, ${ROUNDS} rounds, ${Math.round(statSync(file).size / 1e6)} MB written to ${file})`,
  );
  console.log(
    `  = ${((100 * median) / budget).toFixed(1)} % of one activation's ${budget.toFixed(0)} µs at ${REFERENCE_RATE.toLocaleString('en-US')} req/s on one core`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
