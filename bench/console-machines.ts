/**
 * npm run bench:console — the host console's machine list at scale: a host.db filled with
 * BENCH_MACHINES (default 1,000,000) machines, a real host process serving its console over
 * HTTPS, and the first page of GET /api/machines timed for the default sort, each sort and each
 * filter (and a second page by cursor, the overview and the count history), as the median of
 * BENCH_RUNS (default 5) calls after one discarded. A report: it prints a table and exits 0.
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineIdHasher, openHostDb } from '@volact/host';
import { CLI } from './procs.js';

const MACHINES = Math.max(1000, Number(process.env.BENCH_MACHINES) || 1_000_000);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS) || 5);
const DAY = 86_400_000;
const now = Date.now();
const states = ['licensed', 'licensed', 'licensed', 'initialGrace', 'ootGrace', 'notification', 'unlicensed'];
const outcomes = ['renewed', 'renewed', 'renewed', 'activated', 'countInsufficient'];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Inserts the machines in one transaction, in last-seen order as the host's own inserts come. */
function fill(path: string): void {
  const db = openHostDb(path);
  const hash = machineIdHasher(db);
  const insert = db.prepare(
    `INSERT INTO machines (machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm,
       license_state, last_outcome, fingerprints, machine_name) VALUES (?, ?, 'fp', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const t0 = performance.now();
  db.transaction(() => {
    for (let i = 0; i < MACHINES; i++) {
      const id = randomUUID();
      const lastSeen = now - 200 * DAY + Math.floor((i / MACHINES) * 200 * DAY);
      insert.run(
        id,
        hash(id),
        lastSeen - (i % 400) * DAY,
        lastSeen,
        1 + (i % 50),
        [101, 102, 103, 201, 202][i % 5]!,
        i % 3 === 0 ? 1 : 0,
        states[i % states.length]!,
        outcomes[i % outcomes.length]!,
        i % 997 === 0 ? 2 : 1,
        `PC-${String(i).padStart(7, '0')}`,
      );
    }
  })();
  db.close();
  console.log(`filled ${MACHINES.toLocaleString('en')} machines in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

const dir = mkdtempSync(join(tmpdir(), 'volact-bench-console-'));
let host: ReturnType<typeof spawn> | undefined;
try {
  execFileSync(process.execPath, [CLI, 'authority', 'init', '--dir', join(dir, 'authority'), '--json'], {
    stdio: 'ignore',
  });
  const state = join(dir, 'host');
  execFileSync('mkdir', ['-m', '0700', state]);
  fill(join(state, 'host.db'));
  host = spawn(
    process.execPath,
    [
      CLI,
      'host',
      'serve',
      '--state',
      state,
      '--root',
      join(dir, 'authority', 'root.pub'),
      '--port',
      '0',
      '--listen',
      '127.0.0.1',
      '--metrics-listen',
      'off',
      '--console-listen',
      '127.0.0.1:0',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, NODE_ENV: 'production' } },
  );
  let log = '';
  const port = await new Promise<number>((resolve, reject) => {
    host!.stderr!.on('data', (d: Buffer) => {
      log += String(d);
      const m = /"console":"https:\/\/127\.0\.0\.1:(\d+)\/"/.exec(log);
      if (m) resolve(Number(m[1]));
    });
    host!.once('exit', () => reject(new Error(`the host stopped:\n${log}`)));
  });
  const made = JSON.parse(
    execFileSync(process.execPath, [CLI, 'host', 'token', 'create', '--state', state, '--name', 'bench', '--json'], {
      encoding: 'utf8',
    }),
  ) as { token: string };
  const ca = readFileSync(join(state, 'console.crt'), 'utf8');
  const agent = new Agent({ keepAlive: true, ca });
  const get = (path: string) =>
    new Promise<{ ms: number; body: any }>((resolve, reject) => {
      const t = performance.now();
      const req = request(
        { host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${made.token}` } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as any;
            if (res.statusCode !== 200) reject(new Error(`${path}: ${res.statusCode} ${JSON.stringify(body)}`));
            else resolve({ ms: performance.now() - t, body });
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  const time = async (path: string) => {
    const first = await get(path);
    const ms: number[] = [];
    for (let i = 0; i < RUNS; i++) ms.push((await get(path)).ms);
    return { ms: median(ms), rows: first.body.machines?.length ?? first.body.points?.length ?? '-', body: first.body };
  };
  const cases: [string, string][] = [
    ['default (last seen, newest first)', '/api/machines?limit=50'],
    ['sort lastSeen asc', '/api/machines?limit=50&order=asc'],
    ['sort firstSeen', '/api/machines?limit=50&sort=firstSeen'],
    ['sort name', '/api/machines?limit=50&sort=name&order=asc'],
    ['sort requests', '/api/machines?limit=50&sort=requests'],
    ['state=licensed', '/api/machines?limit=50&state=licensed'],
    ['state=grace', '/api/machines?limit=50&state=grace'],
    ['state=unlicensed', '/api/machines?limit=50&state=unlicensed'],
    ['edition=201', '/api/machines?limit=50&edition=201'],
    ['vm=true', '/api/machines?limit=50&vm=true'],
    ['seenWithinDays=7', '/api/machines?limit=50&seenWithinDays=7'],
    ['notSeenForDays=150', '/api/machines?limit=50&notSeenForDays=150'],
    ['fingerprints=several', '/api/machines?limit=50&fingerprints=several'],
    ['q=ID prefix (8 hex)', '/api/machines?limit=50&q=0000'],
    ['q=name part', `/api/machines?limit=50&q=PC-${String(MACHINES - 7).padStart(7, '0')}`],
    ['q=no match', '/api/machines?limit=50&q=zzzz-nothing'],
    ['state=grace, sort name', '/api/machines?limit=50&state=grace&sort=name'],
  ];
  const rows: [string, number, unknown][] = [];
  for (const [what, path] of cases) {
    const r = await time(path);
    rows.push([what, r.ms, r.rows]);
    if (what.startsWith('default')) {
      const next = await time(`/api/machines?limit=50&cursor=${r.body.nextCursor}`);
      rows.push(['default, second page by cursor', next.ms, next.rows]);
    }
  }
  for (const [what, path] of [
    ['overview (first, scans machines)', '/api/overview'],
    ['count history, 90 days', '/api/count-history?days=90'],
  ] as const) {
    const first = await get(path);
    const r = await time(path);
    rows.push([what.startsWith('overview') ? 'overview (first call)' : what, first.ms, r.rows]);
    if (what.startsWith('overview'))
      rows.push(['overview (summary kept: 100× its scan time, 2 s to 1 min)', r.ms, '-']);
  }
  console.log(`\nGET over HTTPS, ${MACHINES.toLocaleString('en')} machines, median of ${RUNS} (ms):`);
  console.log('| query | ms | rows |\n| --- | ---: | ---: |');
  for (const [what, ms, n] of rows) console.log(`| ${what} | ${ms.toFixed(1)} | ${String(n)} |`);
} finally {
  if (host && host.exitCode === null) {
    host.kill('SIGTERM');
    await new Promise((r) => host!.once('exit', r));
  }
  rmSync(dir, { recursive: true, force: true });
}
