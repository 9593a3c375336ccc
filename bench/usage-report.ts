/**
 * node bench/dist/usage-report.js — how long `host usage-report` spends counting a full host.db:
 * the 90 days of events a host keeps (BENCH_EVENTS, default 1,000,000 requests from
 * BENCH_MACHINES, default 50,000 machines, over six editions), counted for one quarter (three
 * months), through a read-only connection as the command opens it. A report: it prints the
 * median of BENCH_RUNS (5) builds after one discarded, and exits 0.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { buildUsageReport, openHostDb, type UsageInput } from '@volact/host';

const EVENTS = Math.max(1000, Number(process.env.BENCH_EVENTS) || 1_000_000);
const MACHINES = Math.max(10, Number(process.env.BENCH_MACHINES) || 50_000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS) || 5);
const DAY = 86_400_000;
const now = Date.UTC(2026, 11, 31, 12);
const outcomes = ['renewed', 'renewed', 'renewed', 'activated', 'countInsufficient', 'clockSkew'];
const editions: UsageInput['editions'] = new Map(
  [101, 102, 103, 201, 202, 203].map((n) => [
    n,
    { code: `e${n}`, name: `Edition ${n}`, kind: n > 200 ? 'server' : 'client' },
  ]),
);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const dir = mkdtempSync(join(tmpdir(), 'volact-bench-usage-'));
try {
  const path = join(dir, 'host.db');
  const db = openHostDb(path);
  const insert = db.prepare(
    `INSERT INTO events (at, event, machine_id, vm, license_state, edition, outcome, count, required, address)
     VALUES (?, 12290, ?, 0, 'licensed', ?, ?, ?, 25, '10.0.0.1')`,
  );
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < EVENTS; i++) {
      const m = (i * 7919) % MACHINES;
      const at = now - 90 * DAY + Math.floor((i / EVENTS) * 90 * DAY);
      insert.run(at, `machine-${m}`, [...editions.keys()][m % 6], outcomes[i % outcomes.length], 1000 + (i % 4000));
    }
  })();
  console.log(`filled ${EVENTS.toLocaleString('en')} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  const reader = new Database(path, { readonly: true });
  const build = () => {
    const t = performance.now();
    const r = buildUsageReport({
      db: reader,
      hostId: 'H1',
      groups: ['g'],
      editions,
      from: '2026-10',
      to: '2026-12',
      now,
    });
    if (r.months.length !== 3 || !r.peak) throw new Error('a report without its months or peak');
    return performance.now() - t;
  };
  build();
  const quiet = Array.from({ length: RUNS }, build);
  console.log(`usage report, one quarter: median ${median(quiet).toFixed(0)} ms over ${RUNS} runs`);

  reader.close();
  db.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
