/**
 * npm run attack:kill — power loss under load: rounds of kill -9 of the activation host while
 * concurrent clients activate, each request a distinct machine. After each kill, before the
 * host starts again, the database is opened as the restarted host would open it: every
 * activation the host acknowledged (answered 200) must be there, and PRAGMA integrity_check must
 * say ok. Then the host starts again and its count must agree with the machines stored.
 *
 *   node attack/dist/kill.js [--rounds 5] [--concurrency 32] [--min-ms 800] [--max-ms 3000]
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { request, Agent } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { report, residentMb, type Check } from './report.js';
import { cleanup, makeWorld, volact, type World } from './world.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    concurrency: { type: 'string', default: '32' },
    'min-ms': { type: 'string', default: '800' },
    'max-ms': { type: 'string', default: '3000' },
  },
});
const ROUNDS = Number(values.rounds);
const CONCURRENCY = Number(values.concurrency);
const MIN_MS = Number(values['min-ms']);
const MAX_MS = Number(values['max-ms']);
if (![ROUNDS, CONCURRENCY, MIN_MS, MAX_MS].every((n) => Number.isSafeInteger(n) && n > 0) || MIN_MS > MAX_MS) {
  process.stderr.write('usage: node attack/dist/kill.js [--rounds N] [--concurrency N] [--min-ms MS] [--max-ms MS]\n');
  process.exit(2);
}

/**
 * Keeps CONCURRENCY activations in flight until `stop()`; collects the machine IDs answered 200.
 * One request in five renews a machine acknowledged before (earlier rounds' included), so a
 * restarted host must find the machines it had: a second row for one would be a duplicate.
 */
function load(world: World, acknowledged: Set<string>): { stop: () => Promise<{ sent: number; cut: number }> } {
  const known = [...acknowledged];
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  let running = true;
  let sent = 0;
  let cut = 0;
  const port = world.host.port;
  const one = () =>
    new Promise<void>((resolve) => {
      const machineId =
        known.length && Math.random() < 0.2 ? known[Math.floor(Math.random() * known.length)]! : randomUUID();
      const body = JSON.stringify({
        v: 1,
        machineId,
        fingerprintHash: randomBytes(32).toString('base64url'),
        setupKey: world.setupKeys['desk-pro'],
        nonce: randomBytes(18).toString('base64url'),
        clientTime: Date.now(),
        licenseState: 'initialGrace',
        vm: false,
      });
      sent++;
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port,
          path: '/v1/activate',
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          let text = '';
          res.on('data', (c) => (text += c));
          res.on('end', () => {
            // acknowledged: a whole 200 answer with a signed document, as a client would accept it
            if (res.statusCode === 200 && text.startsWith('{"answer":"')) acknowledged.add(machineId);
            resolve();
          });
          res.on('error', () => {
            cut++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        cut++;
        resolve();
      });
      req.end(body);
    });
  const workers = Array.from({ length: CONCURRENCY }, async () => {
    while (running) await one();
  });
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
      agent.destroy();
      return { sent, cut };
    },
  };
}

/** What the killed host left on disk, read as the restarted host will read it (WAL recovery). */
function onDisk(world: World): { machines: Set<string>; integrity: string; duplicates: number } {
  const db = new Database(join(world.hostDir, 'host.db'));
  try {
    const integrity = (db.pragma('integrity_check', { simple: true }) as string) ?? 'no answer';
    const ids = db.prepare('SELECT machine_id FROM machines').pluck().all() as string[];
    const machines = new Set(ids);
    return { machines, integrity, duplicates: ids.length - machines.size };
  } finally {
    db.close();
  }
}

let code = 1;
try {
  const world = await makeWorld('volact-kill-');
  const acknowledged = new Set<string>();
  const rounds: Record<string, unknown>[] = [];
  const checks: Check[] = [];
  let lost = 0;
  let integrityBad = 0;
  let countsDisagree = 0;
  let duplicates = 0;
  for (let round = 1; round <= ROUNDS; round++) {
    const before = acknowledged.size;
    const rss = residentMb(world.host.child.pid!);
    const running = load(world, acknowledged);
    const after = MIN_MS + Math.floor(Math.random() * (MAX_MS - MIN_MS + 1));
    await new Promise((r) => setTimeout(r, after));
    await world.host.kill9();
    const { sent, cut } = await running.stop();
    const disk = onDisk(world);
    const missing = [...acknowledged].filter((id) => !disk.machines.has(id));
    lost += missing.length;
    if (disk.integrity !== 'ok') integrityBad++;
    duplicates += disk.duplicates;
    const started = performance.now();
    await world.restartHost();
    const restartMs = Math.round(performance.now() - started);
    const status = JSON.parse(await volact(['slmgr', '--host', world.hostDir, '-dlv', '--json'])) as {
      currentCount: number;
    };
    if (status.currentCount !== disk.machines.size) countsDisagree++;
    rounds.push({
      round,
      killedAfterMs: after,
      sent,
      acknowledged: acknowledged.size - before,
      cutByKill: cut,
      storedMachines: disk.machines.size,
      lost: missing.length,
      duplicates: disk.duplicates,
      integrity: disk.integrity,
      countAfterRestart: status.currentCount,
      restartMs,
      hostRssMbBeforeKill: Math.round(rss),
    });
    if (missing.length)
      process.stderr.write(
        `round ${round}: ${missing.length} acknowledged activations lost, e.g. ${missing.slice(0, 3).join(', ')}\n`,
      );
  }
  const finalDisk = onDisk(world);
  checks.push(
    {
      name: 'every acknowledged activation kept',
      ok: lost === 0 && acknowledged.size > 0,
      detail: `${acknowledged.size} acknowledged, ${[...acknowledged].filter((id) => finalDisk.machines.has(id)).length} found after the last kill, ${lost} lost over ${ROUNDS} rounds`,
    },
    {
      name: 'PRAGMA integrity_check ok after every kill',
      ok: integrityBad === 0,
      detail: `${ROUNDS - integrityBad} of ${ROUNDS} ok`,
    },
    {
      name: 'the count agrees with the stored machines after every restart',
      ok: countsDisagree === 0,
      detail: `${ROUNDS - countsDisagree} of ${ROUNDS} agree`,
    },
    {
      name: 'no machine stored twice (renewals after each restart find their row)',
      ok: duplicates === 0,
      detail: `${duplicates} duplicate rows`,
    },
  );
  code = report(
    'kill -9 under load',
    {
      rounds: ROUNDS,
      concurrency: CONCURRENCY,
      acknowledged: acknowledged.size,
      stored: finalDisk.machines.size,
      lost,
      perRound: rounds,
    },
    checks,
  );
} catch (err) {
  process.stderr.write(`attack:kill failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
} finally {
  await cleanup();
}
process.exit(code);
