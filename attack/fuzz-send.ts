/**
 * Sends one case and collects what came back: through node:http (keep-alive, as a client library
 * would) for requests a client library can express, or over a raw socket (TCP or the admin Unix
 * socket) for the rest.
 */
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { requestBytes, type RawRequest } from './fuzz-framing.js';
import { ResponseReader, type Answer } from './fuzz-responses.js';

export type Conn = { port: number; agent: Agent } | { socketPath: string; agent: Agent };
export type HttpRequest = {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | undefined;
  chunked: boolean;
};
export type Outcome = { answers: Answer[]; closed: boolean; timedOut: boolean; error?: string; ms: number };

/** How long an ambiguous or incomplete request gets for an early answer before the half-close. */
const SETTLE_MS = 25;

export function connection(where: { port: number } | { socketPath: string }, maxSockets: number): Conn {
  return { ...where, agent: new Agent({ keepAlive: true, maxSockets }) };
}

/**
 * A keep-alive socket the server closed while idle fails the next request written to it before
 * the server saw a byte (EPIPE, ECONNRESET): that request is sent again on a new connection, once,
 * as Node's documentation advises. Had the server acted on the first one, the row check would see
 * two changes for one answer.
 */
export async function sendHttp(conn: Conn, req: HttpRequest, timeoutMs: number): Promise<Outcome> {
  const first = await sendHttpOnce(conn, req, timeoutMs);
  if (!first.stale) return first.outcome;
  return (await sendHttpOnce({ ...conn, agent: new Agent({ keepAlive: false }) }, req, timeoutMs)).outcome;
}

function sendHttpOnce(conn: Conn, req: HttpRequest, timeoutMs: number): Promise<{ outcome: Outcome; stale: boolean }> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    let answered = false;
    const done = (o: Omit<Outcome, 'ms'>, stale = false) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ outcome: { ...o, ms: performance.now() - started }, stale });
    };
    const headers = {
      ...req.headers,
      ...(req.body && !req.chunked ? { 'content-length': String(req.body.length) } : {}),
    };
    let r: ReturnType<typeof request>;
    try {
      r = request(
        {
          ...('port' in conn ? { host: '127.0.0.1', port: conn.port } : { socketPath: conn.socketPath }),
          agent: conn.agent,
          method: req.method,
          path: req.path,
          headers,
        },
        (res) => {
          answered = true;
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            if (size < 4096) chunks.push(c);
            size += c.length;
          });
          res.on('end', () =>
            done({
              answers: [
                { status: res.statusCode ?? 0, body: Buffer.concat(chunks).subarray(0, 4096).toString('utf8') },
              ],
              closed: false,
              timedOut: false,
            }),
          );
          res.on('error', (err: NodeJS.ErrnoException) =>
            done({
              answers: [{ status: res.statusCode ?? 0, body: '' }],
              closed: true,
              timedOut: false,
              error: err.code ?? err.message,
            }),
          );
        },
      );
    } catch {
      // a request node:http refuses to write (a character it does not allow): the same bytes, raw
      const body = req.body ?? Buffer.alloc(0);
      const lines = Object.entries({ host: 'localhost', ...req.headers, 'content-length': String(body.length) }).map(
        ([k, v]) => `${k}: ${v}`,
      );
      void sendRaw(
        conn,
        {
          chunks: [requestBytes({ method: req.method, target: req.path, version: 'HTTP/1.1', headers: lines }, body)],
          expect: 1,
          label: '',
        },
        timeoutMs,
      ).then((o) => done(o));
      return;
    }
    timer = setTimeout(() => {
      r.destroy();
      done({ answers: [], closed: false, timedOut: true });
    }, timeoutMs);
    r.on('error', (err: NodeJS.ErrnoException) =>
      done(
        { answers: [], closed: true, timedOut: false, error: err.code ?? err.message },
        r.reusedSocket && !answered && ['EPIPE', 'ECONNRESET'].includes(err.code ?? ''),
      ),
    );
    if (req.body) r.end(req.body);
    else r.end();
  });
}

export function sendRaw(conn: Conn, req: RawRequest, timeoutMs: number): Promise<Outcome> {
  const started = performance.now();
  return new Promise((resolve) => {
    const reader = new ResponseReader();
    const socket = 'port' in conn ? connect({ host: '127.0.0.1', port: conn.port }) : connect(conn.socketPath);
    let closed = false;
    let error: string | undefined;
    let settled = false;
    const done = (timedOut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        answers: reader.answers,
        closed,
        timedOut,
        ...(error ? { error } : {}),
        ms: performance.now() - started,
      });
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => {
      reader.push(c);
      if (req.expect > 0 && reader.answers.length >= req.expect) done(false);
    });
    socket.on('end', () => {
      reader.end();
      closed = true;
      done(false);
    });
    socket.on('close', () => {
      closed = true;
      reader.end();
      done(false);
    });
    // EPIPE or ECONNRESET while writing: the server closed first (e.g. 431 after an overlong header)
    socket.on('error', (err: NodeJS.ErrnoException) => (error ??= err.code ?? err.message));
    socket.on('connect', async () => {
      for (const [i, chunk] of req.chunks.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 1 + (i % 3)));
        if (socket.destroyed) return;
        socket.write(chunk);
      }
      if (req.expect === 0) setTimeout(() => socket.destroyed || socket.end(), SETTLE_MS);
    });
  });
}
