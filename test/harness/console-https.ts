import { request } from 'node:https';
import type { Service } from './processes.js';

/** HTTPS calls to a host console from the e2e tests, trusting only its own certificate. */

export type Reply = { status: number; body: any; headers: Record<string, string | string[] | undefined> };

/** One HTTPS call to the console, trusting only its own certificate (console.crt). */
export function call(
  port: number,
  ca: string,
  method: string,
  path: string,
  opts: { body?: unknown; raw?: string | Buffer; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const text = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method,
        ca,
        headers: {
          ...(text !== undefined
            ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const t = Buffer.concat(chunks).toString('utf8');
          let body: unknown = t;
          try {
            body = JSON.parse(t);
          } catch {
            /* text */
          }
          resolve({ status: res.statusCode ?? 0, body, headers: res.headers });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** The console URL in the `listening` line. */
export async function consolePort(service: Service): Promise<{ port: number; fingerprint: string }> {
  for (let i = 0; i < 50; i++) {
    const m = /"console":"https:\/\/127\.0\.0\.1:(\d+)\/","consoleFingerprint":"([0-9A-F:]+)"/.exec(service.output());
    if (m) return { port: Number(m[1]), fingerprint: m[2]! };
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no console in:\n${service.output()}`);
}
