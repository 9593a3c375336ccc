import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * What a server tells its observers about each request once the answer is sent: the metrics
 * (request time by route and status) and the access log read the same record. `route` is the
 * route table's key ("POST /v1/activate"), never the raw path, so a scan of random paths cannot
 * grow a metric's label set: an unknown path is `unmatched`, a refused network `not-served`.
 */
export type RequestRecord = {
  method: string;
  route: string;
  status: number;
  /** from the request's arrival to the answer's last byte handed to the kernel */
  seconds: number;
  peer: string;
  /** the request's ID, also in its X-Request-Id answer header and in any error logged for it */
  requestId: string;
};

export type RequestObserver = (record: RequestRecord) => void;

/** Observers in turn; undefined when there are none, so a server without any pays nothing. */
export function observers(...list: (RequestObserver | undefined)[]): RequestObserver | undefined {
  const present = list.filter((o): o is RequestObserver => o !== undefined);
  if (present.length === 0) return undefined;
  if (present.length === 1) return present[0];
  return (record) => {
    for (const o of present) o(record);
  };
}

// process-unique prefix and a counter: unique enough to find a request in a day's logs, and
// cheap on the hot path (no random bytes per request)
const prefix = randomBytes(4).toString('hex');
let counter = 0;
const ids = new WeakMap<ServerResponse, string>();
/** A client's or a proxy's own ID is kept when it is one: up to 64 of A-Z a-z 0-9 . _ - */
const wellFormed = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The request's ID: a well-formed X-Request-Id it came with (a proxy's, so both logs name the
 * same ID), else a new one; sent back as X-Request-Id. The same ID on every call for one answer.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  let id = ids.get(res);
  if (id !== undefined) return id;
  const given = req.headers['x-request-id'];
  id = typeof given === 'string' && wellFormed.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
  ids.set(res, id);
  if (!res.headersSent) res.setHeader('x-request-id', id);
  return id;
}

/**
 * Calls `observe` when the answer to `req` has been sent (or the connection closed before it was).
 * Gives the request its ID (requestId); then one listener per request and a monotonic start time,
 * nothing more without an observer.
 */
export function watchRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  observe: RequestObserver | undefined,
): void {
  const id = requestId(req, res);
  if (observe === undefined) return;
  const start = process.hrtime.bigint();
  const done = () => {
    res.off('close', done);
    res.off('finish', done);
    observe({
      method: req.method ?? '?',
      route,
      // a connection closed before an answer was written counts as 499, as nginx logs it
      status: res.headersSent ? res.statusCode : 499,
      seconds: Number(process.hrtime.bigint() - start) / 1e9,
      peer: req.socket.remoteAddress ?? '',
      requestId: id,
    });
  };
  res.once('finish', done);
  res.once('close', done);
}
