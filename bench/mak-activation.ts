/**
 * MAK activations per second at the authority on PostgreSQL, with 1 node and with 2 nodes on
 * one database, in one run. Every activation is a new machine, so each one is a committed
 * count against the MAK's limit (durable PostgreSQL: fsync and synchronous_commit on).
 * This machine has 2 cores shared by the nodes, PostgreSQL and the load: report, not scaling.
 *
 *   npm run bench:mak      (BENCH_RUNS, BENCH_SECONDS, BENCH_CONNECTIONS to change the defaults)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashedFingerprint, systemClock } from '@volact/protocol';
import { initKeys, openAuthority, sampleCatalogPath } from '@volact/authority';
import { startPostgres } from '@volact/authority/testing';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const WARMUP = 2;
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const CLI = new URL('../../packages/cli/dist/main.js', import.meta.url).pathname;

function startNode(dir: string, database: string): Promise<{ child: ChildProcess; port: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        CLI,
        'authority',
        'serve',
        '--dir',
        dir,
        '--database',
        database,
        '--port',
        '0',
        '--rate-per-address',
        '0',
        '--rate-per-key',
        '0',
        '--access-log',
        'off',
        '--max-connections-per-address',
        '0',
      ],
      {
        env: { ...process.env, NODE_ENV: 'production' },
        stdio: ['ignore', 'inherit', 'pipe'],
      },
    );
    let out = '';
    let started = false;
    // the access log is off; the log's listening line names the port
    child.stderr!.on('data', (c: Buffer) => {
      out += c;
      const m = started ? null : /\{[^\n]*"port":(\d+)[^\n]*"msg":"listening"/.exec(out);
      if (m) {
        started = true;
        resolve({ child, port: Number(m[1]) });
      }
      if (out.length > 100_000) out = out.slice(-50_000);
    });
    child.once('exit', (code) => reject(new Error(`authority node exited with ${code}`)));
  });
}

/** Keeps CONNECTIONS requests in flight, round-robin over the nodes; counts 200 answers after the warm-up. */
async function load(
  ports: number[],
  makKey: string,
  seconds: number,
): Promise<{ ok: number; failed: number; perSecond: number }> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const measureFrom = performance.now() + WARMUP * 1000;
  const end = measureFrom + seconds * 1000;
  let ok = 0;
  let failed = 0;
  let n = 0;
  const one = (port: number) =>
    new Promise<void>((resolve) => {
      const seed = randomBytes(9).toString('base64url');
      const body = JSON.stringify({
        v: 1,
        makKey,
        machineId: `bench-${seed}`,
        parts: hashedFingerprint({ osId: seed, cpu: 'cpu', board: seed, disks: [seed], nics: [seed] }),
        nonce: randomBytes(18).toString('base64url'),
      });
      const req = request(
        {
          agent,
          host: '127.0.0.1',
          port,
          method: 'POST',
          path: '/v1/mak-activations',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const now = performance.now();
            if (now >= measureFrom && now <= end) res.statusCode === 200 ? ok++ : failed++;
            resolve();
          });
        },
      );
      req.on('error', () => {
        failed++;
        resolve();
      });
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) await one(ports[n++ % ports.length]!);
    }),
  );
  agent.destroy();
  return { ok, failed, perSecond: Math.round(ok / seconds) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'volact-bench-mak-'));
  const pg = await startPostgres({ durable: true });
  const nodes: ChildProcess[] = [];
  try {
    const dir = join(tmp, 'authority');
    initKeys(dir, systemClock.now());
    const opened = await openAuthority(dir, systemClock, pg.url);
    await opened.authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'test');
    const mak = await opened.authority.issueMak('desk-pro', 10_000_000, 'test');
    await opened.close();
    const a = await startNode(dir, pg.url);
    const b = await startNode(dir, pg.url);
    nodes.push(a.child, b.child);
    console.log('volact bench: MAK activations per second, authority on one PostgreSQL (durable)');
    console.log(
      `  node ${process.version}, 2 cores shared by nodes, PostgreSQL and load; ${CONNECTIONS} requests in flight`,
    );
    console.log(
      `  ${RUNS} runs x ${SECONDS} s after ${WARMUP} s warm-up, 1 node and 2 nodes alternating; every request a new machine\n`,
    );
    const one: number[] = [];
    const two: number[] = [];
    for (let r = 1; r <= RUNS; r++) {
      const x = await load([a.port], mak.key, SECONDS);
      one.push(x.perSecond);
      console.log(`  run ${r} 1 node:  ${x.perSecond.toLocaleString('en')} activations/s (${x.failed} failed)`);
      const y = await load([a.port, b.port], mak.key, SECONDS);
      two.push(y.perSecond);
      console.log(`  run ${r} 2 nodes: ${y.perSecond.toLocaleString('en')} activations/s (${y.failed} failed)`);
    }
    const m1 = median(one);
    const m2 = median(two);
    console.log(`\n  median 1 node:  ${m1.toLocaleString('en')} activations/s`);
    console.log(`  median 2 nodes: ${m2.toLocaleString('en')} activations/s`);
    console.log(`  ratio 2 nodes / 1 node = ${(m2 / m1).toFixed(2)} (2 cores shared: a report, not a scaling claim)`);
  } finally {
    for (const n of nodes) n.kill('SIGTERM');
    pg.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
