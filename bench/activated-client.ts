import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initKeys, openAuthority, runAuthority, sampleCatalogPath } from '@volact/authority';
import { systemClock } from '@volact/protocol';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'packages/cli/bin/volact.js');

/** An authority with a MAK, and a client activated with it through the CLI; returns the client's state directory. */
export async function activatedClient(tmp: string): Promise<string> {
  const authDir = join(tmp, 'authority');
  initKeys(authDir, systemClock.now());
  const opened = await openAuthority(authDir, systemClock);
  await opened.authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'bench');
  const mak = (await opened.authority.issueMak('desk-pro', 10, 'bench')).key;
  await opened.close();
  const auth = await runAuthority(authDir, systemClock, 0, '127.0.0.1');
  const state = join(tmp, 'client');
  const env = { ...process.env, VOLACT_STATE_DIR: state };
  // spawnSync would block the authority in this process: the activation runs asynchronously
  const cli = (args: string[]) =>
    new Promise<void>((done, fail) => {
      execFile(process.execPath, [BIN, ...args], { env }, (err, stdout, stderr) =>
        err ? fail(new Error(`volact ${args.join(' ')}: ${stderr}${stdout}`)) : done(),
      );
    });
  try {
    await cli(['client', 'trust', join(authDir, 'root.pub'), '--authority', `http://127.0.0.1:${auth.port}`]);
    await cli(['slmgr', '-ipk', mak]);
    await cli(['slmgr', '-ato']);
  } finally {
    await auth.close();
  }
  return state;
}
