import { chmodSync, existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { VolactError, type Clock } from '@volact/protocol';
import { Authority } from './authority.js';
import { authorityServer } from './http.js';
import { loadKeys } from './keys.js';
import { SqliteAuthorityStore } from './sqlite-store.js';

export type OpenAuthority = { authority: Authority; close: () => void; rootKid: string };

/** Opens an authority directory: its keys and its store (embedded SQLite by default). */
export function openAuthority(dir: string, clock: Clock): OpenAuthority {
  const keys = loadKeys(dir);
  const path = join(dir, 'authority.db');
  const fresh = !existsSync(path);
  const store = new SqliteAuthorityStore(path);
  if (fresh) chmodSync(path, 0o600);
  return { authority: new Authority(keys, store, clock), close: () => store.close(), rootKid: keys.root.kid };
}

/** Serves the authority's HTTP API. Plain HTTP belongs on loopback; put TLS in front elsewhere. */
export async function runAuthority(dir: string, clock: Clock, port: number, address = '127.0.0.1'): Promise<{ server: Server; port: number; close: () => Promise<void> }> {
  const opened = openAuthority(dir, clock);
  const server = authorityServer(opened.authority, loadKeys(dir).root);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new VolactError('PORT_UNAVAILABLE', { port, reason: err.code ?? err.message })));
    server.listen({ port, host: address }, () => resolve());
  });
  return {
    server,
    port: (server.address() as { port: number }).port,
    close: async () => {
      await new Promise((r) => server.close(r));
      server.closeAllConnections();
      opened.close();
    },
  };
}
