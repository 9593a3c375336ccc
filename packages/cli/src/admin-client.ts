import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { VolactError, fromErrorBody } from '@volact/protocol';

/** Calls the admin API of a running host over its Unix socket (local administrators only). */
export function adminCall<T>(dir: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const socketPath = join(dir, 'admin.sock');
  if (!existsSync(socketPath)) return Promise.reject(new VolactError('ADMIN_UNAVAILABLE', { dir }));
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request({ socketPath, method, path, headers: text ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}, timeout: 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          parsed = undefined;
        }
        if (res.statusCode === 200) resolve(parsed as T);
        else reject(fromErrorBody(parsed) ?? new VolactError('INTERNAL', { requestId: `admin ${res.statusCode}` }));
      });
    });
    req.on('error', (err: NodeJS.ErrnoException) => reject(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? new VolactError('ADMIN_UNAVAILABLE', { dir }) : err));
    req.end(text);
  });
}
