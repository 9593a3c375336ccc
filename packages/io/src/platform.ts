import { createHash } from 'node:crypto';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import type { Server } from 'node:net';
import { posix, win32 } from 'node:path';

/**
 * What differs between the platforms a role runs on, in one place: where its admin API listens
 * (where its state lives by default is default-dirs.ts). Every function takes the platform, so tests run the
 * Windows answers on Linux (CI cannot run Windows).
 */

/** Where a host's or an agent's admin API listens. */
export type AdminEndpoint = {
  /** A Unix socket path, or on Windows a named pipe (\\.\pipe\…): net.Server listens on either. */
  path: string;
  /** A named pipe is not a file: it needs no stale copy removed and takes no file mode. */
  pipe: boolean;
};

/**
 * The admin endpoint of the role whose state directory is `dir`: DIR/admin.sock, a Unix socket
 * in the 0700 directory, so only the role's user and root reach it; on Windows a named pipe
 * named after the directory (pipes live in their own namespace, not in a directory), so two
 * hosts on one machine get two pipes and `slmgr --host DIR` finds the right one.
 */
export function adminEndpoint(dir: string, platform: NodeJS.Platform = process.platform): AdminEndpoint {
  if (platform !== 'win32') return { path: posix.join(dir, 'admin.sock'), pipe: false };
  // NTFS names are case-insensitive: C:\ProgramData\volact\host and c:\programdata\VOLACT\host are one host
  const id = createHash('sha256').update(win32.resolve(dir).toLowerCase()).digest('hex').slice(0, 16);
  return { path: `\\\\.\\pipe\\volact-admin-${id}`, pipe: true };
}

/** True when something may be listening there (a socket file exists; a pipe can only be tried). */
export function endpointMayAnswer(endpoint: AdminEndpoint): boolean {
  return endpoint.pipe || existsSync(endpoint.path);
}

/**
 * Listens on the admin endpoint. A Unix socket left by a killed process is removed first and the
 * new one is made 0600. A pipe keeps the default DACL Windows gives it: full control to
 * LocalSystem, Administrators and the creator owner (the service account), read only for
 * Everyone, so others cannot send a request; docs/operations.md (Windows) says more.
 */
export async function listenAdmin(server: Server, endpoint: AdminEndpoint): Promise<void> {
  if (!endpoint.pipe) rmSync(endpoint.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(endpoint.path, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (!endpoint.pipe) chmodSync(endpoint.path, 0o600);
}
