import type { Client } from '@volact/client';
import { processClock } from '@volact/io';

/** The client code loads when a command runs, not when the CLI starts (help and other roles need none of it). */
export const clientPackage = () => import('@volact/client');

/** This machine's client state: --state, else VOLACT_STATE_DIR, else the default directory. */
export async function openClient(state: string | undefined): Promise<Client> {
  const { Client, stateDir } = await clientPackage();
  return new Client({ dir: stateDir(state), clock: processClock() });
}
