import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { VolactError, errorBody } from '@volact/protocol';

/**
 * How long a connection may take and how many may be open. Node closes a connection whose
 * request headers are not complete in time, or whose body is not, and an idle keep-alive
 * connection; `createServer` must be given `serverTimeouts(limits)` for its checks to run every
 * second (Node's default is every 30 s, which lets a flood of silent connections pile up).
 */
export type ConnectionLimits = {
  /** The request's headers must be complete within this, from the connection's start or the previous answer. */
  headersMs: number;
  /** The whole request (headers and body) must have arrived within this. */
  requestMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveMs: number;
  /** Open connections from one peer address (0: no cap). Behind a proxy every peer is the proxy. */
  perAddress: number;
  /** Open connections in all (0: no cap); at the cap the connection idle longest makes room. */
  total: number;
};

export const defaultConnectionLimits: ConnectionLimits = {
  headersMs: 10_000,
  requestMs: 15_000,
  keepAliveMs: 5_000,
  perAddress: 64,
  total: 8192,
};

/** Options for `createServer`: Node's own timeout checks, run every second. */
export function serverTimeouts(limits: ConnectionLimits) {
  // handshakeTimeout: a TLS handshake must be done within the header time too (Node's default is 120 s)
  return {
    connectionsCheckingInterval: 1000,
    headersTimeout: limits.headersMs,
    requestTimeout: limits.requestMs,
    handshakeTimeout: limits.headersMs,
  };
}

export type ConnectionStats = { open: number; refusedPerAddress: number; refusedTotal: number; evicted: number };

type Conn = { socket: Socket; address: string; pending: number };

/**
 * Caps open connections per peer address and in total. A connection over its address's cap is
 * refused with TOO_MANY_CONNECTIONS (a plain 503 with Retry-After; a TLS connection is just
 * closed); at the total cap the connection that has waited longest without a request in
 * progress is closed to make room, so idle and half-sent connections cannot lock out clients
 * that ask and go. Others are never disturbed.
 */
export function guardConnections(
  server: Server,
  limits: ConnectionLimits,
  opts: { tls?: boolean } = {},
): { stats: () => ConnectionStats } {
  server.keepAliveTimeout = limits.keepAliveMs;
  server.headersTimeout = limits.headersMs;
  server.requestTimeout = limits.requestMs;
  // insertion order is idle order: a connection moves to the end each time it answers a request
  const conns = new Map<Socket, Conn>();
  const perAddress = new Map<string, number>();
  const stats: ConnectionStats = { open: 0, refusedPerAddress: 0, refusedTotal: 0, evicted: 0 };

  const refuse = (socket: Socket, err: VolactError) => {
    if (opts.tls) {
      socket.destroy();
      return;
    }
    const body = JSON.stringify(errorBody(err));
    socket.on('error', () => undefined);
    socket.end(
      `HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n${body}`,
      () => socket.destroy(),
    );
    setTimeout(() => socket.destroy(), 1000).unref();
  };

  server.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'local';
    const fromHere = perAddress.get(address) ?? 0;
    if (limits.perAddress > 0 && address !== 'local' && fromHere >= limits.perAddress) {
      stats.refusedPerAddress++;
      refuse(
        socket,
        new VolactError('TOO_MANY_CONNECTIONS', {
          what: `address ${address}`,
          limit: limits.perAddress,
          retryAfter: 1,
        }),
      );
      return;
    }
    if (limits.total > 0 && conns.size >= limits.total && !evictIdle()) {
      stats.refusedTotal++;
      refuse(
        socket,
        new VolactError('TOO_MANY_CONNECTIONS', { what: 'all peers', limit: limits.total, retryAfter: 1 }),
      );
      return;
    }
    const conn: Conn = { socket, address, pending: 0 };
    conns.set(socket, conn);
    perAddress.set(address, fromHere + 1);
    stats.open = conns.size;
    socket.once('close', () => {
      conns.delete(socket);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
      stats.open = conns.size;
    });
  });

  /** Closes the connection that has gone longest without a request in progress; false when all are busy. */
  function evictIdle(): boolean {
    for (const conn of conns.values()) {
      if (conn.pending > 0) continue;
      conns.delete(conn.socket); // counted as closed now; its 'close' event follows
      conn.socket.destroy();
      stats.evicted++;
      return true;
    }
    return false;
  }

  server.on('request', (req, res) => {
    // over TLS the request's socket wraps the TCP socket counted at 'connection' (its _parent)
    const conn = conns.get(req.socket) ?? conns.get((req.socket as Socket & { _parent?: Socket })._parent as Socket);
    if (!conn) return;
    conn.pending++;
    res.once('close', () => {
      conn.pending--;
      if (conns.delete(conn.socket)) conns.set(conn.socket, conn);
    });
  });

  return { stats: () => ({ ...stats }) };
}
