import type { Server } from 'node:net';
import { VolactError } from '@volact/protocol';

/**
 * Binds a server, or rejects with PORT_UNAVAILABLE naming the port (and `what` it was for) and
 * the system's reason (EADDRINUSE, EACCES, EADDRNOTAVAIL): the one way every role reports a port
 * it cannot have.
 */
export function listenOn(server: Server, port: number, host: string, what?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: NodeJS.ErrnoException) => {
      const reason = err.code ?? err.message;
      reject(new VolactError('PORT_UNAVAILABLE', { port, reason: what ? `${what}, ${reason}` : reason }));
    };
    server.once('error', failed);
    server.listen({ port, host }, () => {
      server.off('error', failed);
      resolve();
    });
  });
}
