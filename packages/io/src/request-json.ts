import { closeSync, constants, fstatSync, openSync, writeSync } from 'node:fs';
import {
  request as httpRequest,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { urlToHttpOptions } from 'node:url';
import { fromErrorBody, parseWith, type Problem, type Schema } from '@volact/protocol';

/** Why a request got no usable answer. Each caller turns it into its own code (HOST_, AUTHORITY_UNREACHABLE, …). */
export type RequestFailure =
  | { kind: 'network'; detail: string; code?: string }
  | { kind: 'timeout'; timeoutMs: number }
  | { kind: 'tooLarge'; limit: number }
  | { kind: 'status'; status: number }
  | { kind: 'notJson' }
  | { kind: 'shape'; problem: Problem };

function reasonOf(f: RequestFailure): string {
  switch (f.kind) {
    case 'network':
      return f.detail;
    case 'timeout':
      return `no answer within ${f.timeoutMs} ms`;
    case 'tooLarge':
      return 'answer too large'; // docs/protocol.md quotes this
    case 'status':
      return `HTTP ${f.status}`;
    case 'notJson':
      return 'unexpected answer: not JSON';
    case 'shape':
      return `unexpected answer: ${f.problem.field} ${f.problem.problem}`;
  }
}

/** A request that got no usable answer; the message is the reason the *_UNREACHABLE codes show. */
export class RequestFailed extends Error {
  constructor(readonly failure: RequestFailure) {
    super(reasonOf(failure));
    this.name = 'RequestFailed';
  }
}

/** What came back: the status and the parsed body, undefined when it is not JSON. */
export type JsonReply = { status: number; body: unknown };

export type Exchange = {
  method: 'GET' | 'POST';
  /** Sent as JSON; none for undefined. */
  body?: unknown;
  /** Most bytes of answer body read; a longer answer is dropped while it arrives. */
  limit: number;
  /** The whole exchange, from connecting to the answer's last byte. */
  timeoutMs: number;
  /** More request headers (a bearer token). */
  headers?: Record<string, string>;
};

/**
 * An http or https URL; a host and port for plain HTTP (any address Node connects to, an IPv6
 * address with a zone such as fe80::1%eth0 included, which a URL cannot hold); or a Unix socket.
 */
export type RequestTarget =
  string | URL | { host: string; port: number; path: string } | { socketPath: string; path: string };

/** Node's request options for a target, or why there are none. */
function optionsFor(target: RequestTarget): { https: boolean; options: RequestOptions } | string {
  if (typeof target === 'object' && !(target instanceof URL)) return { https: false, options: { ...target } };
  const url = URL.canParse(String(target)) ? new URL(target) : undefined;
  if (url?.protocol !== 'http:' && url?.protocol !== 'https:')
    return `${String(target).slice(0, 200)} is not an http or https URL`;
  return { https: url.protocol === 'https:', options: urlToHttpOptions(url) };
}

/**
 * The diagnostic trace (docs/operations.md): with VOLACT_TRACE_EXCHANGES=FILE, each answer
 * received is appended to FILE (0600) as one JSON line: method, where it went, status, the
 * headers a caller acts on and the parsed answer. Never the request's body or headers (a token);
 * answers that show a secret once (a new key or token) are recorded as they came.
 */
function trace(target: RequestTarget, method: string, status: number, headers: IncomingHttpHeaders, body: unknown) {
  const file = process.env.VOLACT_TRACE_EXCHANGES;
  if (!file) return;
  let origin: string;
  let path: string;
  if (typeof target === 'object' && !(target instanceof URL)) {
    origin = 'socketPath' in target ? `unix:${target.socketPath}` : `${target.host}:${target.port}`;
    path = target.path;
  } else {
    const url = new URL(target);
    origin = url.host;
    path = url.pathname + url.search;
  }
  const seen = { 'content-type': headers['content-type'], 'retry-after': headers['retry-after'] };
  const line = JSON.stringify({ method, origin, path, status, headers: seen, body });
  try {
    appendPrivately(file, line + '\n');
  } catch {
    // a diagnostic never fails the request it records
  }
}

/**
 * Appends to a file only if it is this user's own and nobody else's to read: answers show tokens
 * and keys once, and a path another user made first (a world-readable file, a symbolic link in
 * /tmp) must not receive them. Made with 0600 when absent; a link is not followed.
 */
function appendPrivately(file: string, text: string): void {
  const { O_WRONLY, O_APPEND, O_CREAT, O_NOFOLLOW } = constants;
  const fd = openSync(file, O_WRONLY | O_APPEND | O_CREAT | (O_NOFOLLOW ?? 0), 0o600);
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (
      !st.isFile() ||
      (uid !== undefined && st.uid !== uid) ||
      (process.platform !== 'win32' && (st.mode & 0o077) !== 0)
    )
      return;
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** Sends one JSON request and reads the answer within the limit and the time. Resolves with any status; rejects only with RequestFailed. */
export function exchangeJson(target: RequestTarget, ex: Exchange): Promise<JsonReply> {
  const to = optionsFor(target);
  if (typeof to === 'string') return Promise.reject(new RequestFailed({ kind: 'network', detail: to }));
  const text = ex.body === undefined ? undefined : JSON.stringify(ex.body);
  const headers = {
    ...ex.headers,
    ...(text === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }),
  };
  const request = to.https ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (f: RequestFailure) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(new RequestFailed(f));
    };
    const read = (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (Number(res.headers['content-length']) > ex.limit) return fail({ kind: 'tooLarge', limit: ex.limit });
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > ex.limit) fail({ kind: 'tooLarge', limit: ex.limit });
        else chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks, size).toString('utf8'));
        } catch {
          body = undefined;
        }
        trace(target, ex.method, status, res.headers, body);
        resolve({ status, body });
      });
      res.on('error', (err) => fail({ kind: 'network', detail: err.message }));
      res.on('close', () => fail({ kind: 'network', detail: 'the connection closed before the whole answer came' }));
    };
    let req: ClientRequest;
    try {
      req = request({ ...to.options, method: ex.method, headers }, read);
    } catch (err) {
      // Node refuses some requests before sending (a path with a space, say)
      reject(new RequestFailed({ kind: 'network', detail: err instanceof Error ? err.message : String(err) }));
      return;
    }
    const timer = setTimeout(() => fail({ kind: 'timeout', timeoutMs: ex.timeoutMs }), ex.timeoutMs);
    req.on('error', (err: NodeJS.ErrnoException) =>
      fail({ kind: 'network', detail: err.message, ...(err.code ? { code: err.code } : {}) }),
    );
    req.end(text);
  });
}

/**
 * Reads a reply as an answer: a 2xx JSON body that passes `answer`. An error body in the volact
 * shape is thrown as its own VolactError (so a limit stays a limit); everything else, a
 * rejection of `exchange` included, goes through `fail` as a RequestFailed.
 */
export async function expectAnswer<T>(
  exchange: () => Promise<JsonReply>,
  answer: Schema<T>,
  fail: (e: RequestFailed) => Error,
): Promise<T> {
  let reply: JsonReply;
  try {
    reply = await exchange();
  } catch (err) {
    throw fail(
      err instanceof RequestFailed
        ? err
        : new RequestFailed({ kind: 'network', detail: err instanceof Error ? err.message : String(err) }),
    );
  }
  if (reply.status < 200 || reply.status > 299)
    throw fromErrorBody(reply.body) ?? fail(new RequestFailed({ kind: 'status', status: reply.status }));
  if (reply.body === undefined) throw fail(new RequestFailed({ kind: 'notJson' }));
  return parseWith(answer, reply.body, (problem) => fail(new RequestFailed({ kind: 'shape', problem })));
}

export type JsonRequest<T> = Exchange & { answer: Schema<T>; fail: (e: RequestFailed) => Error };

/** One JSON request and its validated answer: exchangeJson, then expectAnswer. */
export function requestJson<T>(target: RequestTarget, req: JsonRequest<T>): Promise<T> {
  return expectAnswer(() => exchangeJson(target, req), req.answer, req.fail);
}
