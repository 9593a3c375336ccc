import { randomBytes, randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { join } from 'node:path';
import { volact, type CliResult } from './cli.js';

/** One simulated client machine: its own state directory, driven through the CLI. */
export type Machine = { dir: string; run: (args: string[]) => Promise<CliResult> };

export async function makeMachine(
  base: string,
  name: string,
  opts: { root: string; key: string; host: string; env?: Record<string, string> },
): Promise<Machine> {
  const dir = join(base, 'machines', name);
  const run = (args: string[]) => volact(['slmgr', '--state', dir, '--json', ...args], opts.env ?? {});
  const trust = await volact(['client', 'trust', opts.root, '--state', dir], opts.env ?? {});
  if (trust.code !== 0) throw new Error(`trust failed: ${trust.stderr}`);
  for (const args of [
    ['-ipk', opts.key],
    ['-skms', opts.host],
  ]) {
    const r = await run(args);
    if (r.code !== 0) throw new Error(`slmgr ${args.join(' ')} failed: ${r.stdout}${r.stderr}`);
  }
  return { dir, run };
}

/** Runs `fn` over items with at most `limit` at once (CLI processes are heavy on 2 cores). */
export async function pool<T, R>(items: T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

/** A raw activation request body, as a client would send it. */
export function activationBody(
  setupKey: string,
  now: number,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    v: 1,
    machineId: randomUUID(),
    fingerprintHash: randomBytes(32).toString('base64url'),
    setupKey,
    nonce: randomBytes(18).toString('base64url'),
    clientTime: now,
    licenseState: 'initialGrace',
    vm: false,
    ...overrides,
  };
}

/** POSTs raw bytes to a host or authority and returns status and parsed body. */
export function post(
  port: number,
  path: string,
  body: string | Buffer,
  opts: { localAddress?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        localAddress: opts.localAddress,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), ...opts.headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Calls a running host's admin socket directly (what the CLI does). */
export function admin(
  dir: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? '' : JSON.stringify(body);
    const req = request(
      {
        socketPath: join(dir, 'admin.sock'),
        method,
        path,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}
