/**
 * Fallback load generator for bench/host-activation when wrk is not installed: keep-alive
 * connections, a fixed number of requests in flight, a unique machine ID and nonce per request.
 *
 *   node bench/dist/load-gen.js URL SECONDS CONNECTIONS SETUPKEY
 *
 * Prints one JSON line: { ok, non2xx, other, errors, seconds, p50Ms, p99Ms }.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';

const [url, secondsArg, connectionsArg, setupKey] = process.argv.slice(2) as [string, string, string, string];
const seconds = Number(secondsArg);
const connections = Number(connectionsArg);
const target = new URL(url);
const agent = new Agent({ keepAlive: true, maxSockets: connections });
let seq = 0;
let ok = 0;
let non2xx = 0;
let other = 0;
let errors = 0;
const latencies: number[] = [];
const start = performance.now();
const end = start + seconds * 1000;

function body(): string {
  seq++;
  return JSON.stringify({
    v: 1,
    machineId: randomUUID(), // random, as clients make them
    fingerprintHash: randomBytes(32).toString('base64url').slice(0, 43),
    setupKey,
    nonce: `${randomBytes(12).toString('base64url')}${seq.toString(36)}`,
    clientTime: Date.now(),
    licenseState: 'initialGrace',
    vm: false,
  });
}

function one(): Promise<void> {
  return new Promise((resolve) => {
    const text = body();
    const t0 = performance.now();
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: target.pathname,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        res.on('data', () => {});
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (performance.now() <= end) {
            if (status === 200) ok++;
            else if (status < 200 || status > 299) non2xx++;
            else other++;
            latencies.push(performance.now() - t0);
          }
          resolve();
        });
      },
    );
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(text);
  });
}

async function loop(): Promise<void> {
  while (performance.now() < end) await one();
}

await Promise.all(Array.from({ length: connections }, loop));
agent.destroy();
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? 0;
process.stdout.write(JSON.stringify({ ok, non2xx, other, errors, seconds, p50Ms: pct(50), p99Ms: pct(99) }) + '\n');
