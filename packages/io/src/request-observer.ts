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
/** Where a response keeps its ID: a property, not a WeakMap entry (cheaper to set, and to collect). */
const ID = Symbol('volact.requestId');
type WithId = ServerResponse & { [ID]?: string };
/** A client's or a proxy's own ID is kept when it is one: up to 64 of A-Z a-z 0-9 . _ - */
const wellFormed = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The request's ID: a well-formed X-Request-Id it came with (a proxy's, so both logs name the
 * same ID), else a new one; sent back as X-Request-Id. The same ID on every call for one answer.
 */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  let id = (res as WithId)[ID];
  if (id !== undefined) return id;
  const given = req.headers['x-request-id'];
  id = typeof given === 'string' && wellFormed.test(given) ? given : `${prefix}-${(++counter).toString(36)}`;
  (res as WithId)[ID] = id;
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
  route: string | (() => string),
  observe: RequestObserver | undefined,
): void {
  const id = requestId(req, res);
  if (observe === undefined) return;
  const start = process.hrtime.bigint();
  const peer = req.socket.remoteAddress ?? ''; // read now: a socket destroyed early forgets it
  // 'close' comes once per response: after the last byte, or when the connection ends first
  res.on('close', () =>
    observe({
      method: req.method ?? '?',
      route: typeof route === 'string' ? route : route(),
      // a connection closed before the answer was written whole counts as 499, as nginx logs it
      status: res.writableFinished ? res.statusCode : 499,
      seconds: Number(process.hrtime.bigint() - start) / 1e9,
      peer,
      requestId: id,
    }),
  );
}
