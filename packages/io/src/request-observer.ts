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

/**
 * Calls `observe` when the answer to `req` has been sent (or the connection closed before it was).
 * One listener per request and a monotonic start time; nothing at all without an observer.
 */
export function watchRequest(
  req: IncomingMessage,
  res: ServerResponse,
  route: string,
  observe: RequestObserver | undefined,
): void {
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
    });
  };
  res.once('finish', done);
  res.once('close', done);
}
