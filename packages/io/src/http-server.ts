import { isUtf8 } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VolactError, errorBody, parseWith, type Schema } from '@volact/protocol';
import { requestId as idOf, watchRequest, type RequestObserver } from './request-observer.js';
import { defaultLog, type Log } from './log.js';

export const DEFAULT_BODY_LIMIT = 16 * 1024;

/**
 * application/json, with no parameter or charset=utf-8 only. Anything else (forms, text/plain,
 * multipart) is refused: those are what a web page on another site can make a browser post
 * without asking, so requiring JSON keeps hosts on a customer network out of reach of such pages.
 */
function jsonMediaType(header: string | undefined): boolean {
  if (header === undefined) return false;
  const [type, ...params] = header.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/json') return false;
  return params.every((p) => p === '' || /^charset="?utf-8"?$/.test(p));
}

/**
 * Reads a JSON body: Content-Type application/json, a hard size limit (BODY_TOO_LARGE before
 * reading it all), strict UTF-8 (a bad byte is BAD_ENCODING, never a replacement character).
 */
export function readJson(req: IncomingMessage, limit = DEFAULT_BODY_LIMIT): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const type = req.headers['content-type'];
    if (type !== 'application/json' && !jsonMediaType(type)) {
      req.resume();
      reject(
        new VolactError('UNSUPPORTED_MEDIA_TYPE', {
          type: (req.headers['content-type'] ?? 'no Content-Type').slice(0, 100),
        }),
      );
      return;
    }
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
      const body = Buffer.concat(chunks, size);
      if (!isUtf8(body)) {
        reject(new VolactError('BAD_ENCODING'));
        return;
      }
      try {
        resolve(JSON.parse(body.toString('utf8')));
      } catch {
        reject(new VolactError('BAD_JSON'));
      }
    });
    // the client went away or broke the framing mid-body (Node has answered 400 or closed):
    // the client's doing, never an internal error to log
    req.on('error', (err) => {
      if (!failed) reject(new VolactError('REQUEST_INCOMPLETE', { detail: err.message.slice(0, 100) }));
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
 * body; anything else is logged under the request's ID (its X-Request-Id) and answered as
 * INTERNAL with that ID and no internals.
 */
export function sendError(res: ServerResponse, err: unknown, log: Log = defaultLog()): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const id = idOf(res.req, res);
  if (err instanceof VolactError) {
    // 429 and 503 say when to come back (seconds), as RFC 9110 has it
    if (typeof err.params.retryAfter === 'number') res.setHeader('retry-after', String(err.params.retryAfter));
    // an INTERNAL logged where it happened (the host's batch) names that line's ID, as below;
    // this line ties it to the request's ID
    const logged = typeof err.params.requestId === 'string' ? err.params.requestId : undefined;
    if (err.code === 'INTERNAL') log.error({ requestId: id, logged }, 'internal error');
    sendJson(res, err.status, errorBody(err, logged));
    return;
  }
  log.error({ requestId: id, error: err instanceof Error ? err.stack : String(err) }, 'internal error');
  const internal = new VolactError('INTERNAL', { requestId: id });
  sendJson(res, 500, errorBody(internal, id));
}

export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void;

/** A query parameter that must be a non-negative integer, or undefined when it is absent. */
export function intParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new VolactError('BAD_REQUEST', { field: name, problem: 'must be a non-negative integer' });
  return n;
}
export type Routes = Record<string, Handler>;

function carriesBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Reads and drops a body nobody wants, up to 1 MiB (BODY_TOO_LARGE past that, still dropping the rest). */
function discardBody(req: IncomingMessage, limit = 1024 * 1024): Promise<void> {
  return new Promise((resolve, reject) => {
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) reject(new VolactError('BODY_TOO_LARGE', { limit }));
    });
    req.on('end', () => resolve());
    req.on('error', (err) => reject(new VolactError('REQUEST_INCOMPLETE', { detail: err.message.slice(0, 100) })));
  });
}

/**
 * A tiny exact-path router: "METHOD /path" → handler; else `fallback` (a console's static files,
 * reported as route `static`) when it takes the request; everything else is NOT_FOUND. With an
 * observer, each request is reported under its route key once answered (request-observer.ts).
 */
export function router(
  routes: Routes,
  log?: Log,
  observe?: RequestObserver,
  fallback?: (req: IncomingMessage, res: ServerResponse, url: URL) => boolean,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    try {
      // inside the try: a hostile request line (e.g. "GET //[") must not take the server down
      const url = new URL(req.url ?? '/', 'http://local');
      const key = `${req.method} ${url.pathname}`;
      const handler = routes[key];
      // named when answered: `static` only for a request the fallback took
      let route = handler ? key : 'unmatched';
      watchRequest(req, res, () => route, observe);
      const dispatch = () => {
        if (!handler && fallback?.(req, res, url)) {
          route = 'static';
          return;
        }
        if (!handler) {
          req.resume();
          throw new VolactError('NOT_FOUND', {
            method: (req.method ?? '?').slice(0, 16),
            path: url.pathname.slice(0, 200),
          });
        }
        const done = handler(req, res, url);
        if (done) done.catch((err: unknown) => sendError(res, err, log));
      };
      // a GET that comes with a body is read to its end first: answered while the client still
      // sends, the connection could be reset under the answer before the client read it
      if ((req.method === 'GET' || req.method === 'HEAD') && carriesBody(req))
        discardBody(req).then(
          () => {
            try {
              dispatch();
            } catch (err) {
              sendError(res, err, log);
            }
          },
          (err: unknown) => sendError(res, err, log),
        );
      else dispatch();
    } catch (err) {
      if (err instanceof TypeError && (err as NodeJS.ErrnoException).code === 'ERR_INVALID_URL') {
        watchRequest(req, res, 'unmatched', observe);
        req.resume();
        sendError(
          res,
          new VolactError('NOT_FOUND', {
            method: (req.method ?? '?').slice(0, 16),
            path: String(req.url).slice(0, 200),
          }),
          log,
        );
        return;
      }
      sendError(res, err, log);
    }
  };
}

/** Writes a file so that it exists whole or not at all, with the given mode. */
