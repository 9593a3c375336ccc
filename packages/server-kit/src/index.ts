import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VolactError, errorBody, parseWith, type Schema } from '@volact/protocol';

export const DEFAULT_BODY_LIMIT = 16 * 1024;

/** Reads a JSON body with a hard size limit; answers BODY_TOO_LARGE before reading it all. */
export function readJson(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      reject(new VolactError('BODY_TOO_LARGE', { limit }));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        reject(new VolactError('BODY_TOO_LARGE', { limit }));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (failed) return;
      try {
        resolve(JSON.parse(Buffer.concat(chunks, size).toString('utf8')));
      } catch {
        reject(new VolactError('BAD_JSON'));
      }
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
  });
}

/** Validates a parsed body against a schema; problems become BAD_REQUEST naming the field. */
export function validate<T>(schema: Schema<T>, body: unknown): T {
  return parseWith(schema, body, (p) => new VolactError('BAD_REQUEST', p));
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/**
 * The one place a server maps failures to answers: a VolactError becomes its table status and
 * body; anything else is logged with a request ID and answered as INTERNAL without internals.
 */
export function sendError(res: ServerResponse, err: unknown, log: (line: string) => void = (l) => process.stderr.write(l + '\n')): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof VolactError) {
    sendJson(res, err.status, errorBody(err));
    return;
  }
  const requestId = randomUUID();
  log(JSON.stringify({ level: 'error', requestId, error: err instanceof Error ? err.stack : String(err) }));
  const internal = new VolactError('INTERNAL', { requestId });
  sendJson(res, 500, errorBody(internal, requestId));
}

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;
export type Routes = Record<string, Handler>;

/** A tiny exact-path router: "METHOD /path" → handler; everything else is NOT_FOUND. */
export function router(routes: Routes, log?: (line: string) => void): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      // inside the try: a hostile request line (e.g. "GET //[") must not take the server down
      const url = new URL(req.url ?? '/', 'http://local');
      const handler = routes[`${req.method} ${url.pathname}`];
      if (!handler) {
        req.resume();
        throw new VolactError('NOT_FOUND', { method: (req.method ?? '?').slice(0, 16), path: url.pathname.slice(0, 200) });
      }
      const done = handler(req, res, url);
      if (done) done.catch((err: unknown) => sendError(res, err, log));
    } catch (err) {
      if (err instanceof TypeError && (err as NodeJS.ErrnoException).code === 'ERR_INVALID_URL') {
        req.resume();
        sendError(res, new VolactError('NOT_FOUND', { method: (req.method ?? '?').slice(0, 16), path: String(req.url).slice(0, 200) }), log);
        return;
      }
      sendError(res, err, log);
    }
  };
}

/** Writes a file so that it exists whole or not at all, with the given mode. */
export { writeFileAtomic } from './files.js';
export { callAuthority, getFromAuthority, getJson, postJson, type Get, type Post } from './authority-client.js';
