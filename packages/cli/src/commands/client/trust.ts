import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { emit, fail } from '../../output.js';
import { readRootPem } from '../host/inputs.js';
import { openClient } from './open-client.js';

/** `volact client trust`: pin the publisher's root (and, with --authority, fetch its catalog). */
export function registerTrust(cmd: Command): void {
  cmd
    .command('trust')
    .argument('<file>', "the publisher's root.pub, or its offline bundle (volact-offline.json) for offline activation")
    .description(
      'pin the publisher root key that every answer must chain to (an offline bundle also enables -dti / -atp)',
    )
    .option('--replace', 'replace a root pinned before (the publisher changed its root)')
    .option(
      '--authority <url>',
      "the publisher's authority, for MAK activation and creating directory activation objects",
    )
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (file: string, o: Record<string, string | boolean | undefined>) => {
      try {
        const client = await openClient(o.state as string | undefined);
        const authority = o.authority as string | undefined;
        const kid = client.trust(readRootPem(file), Boolean(o.replace), authority);
        if (authority === undefined) {
          emit(Boolean(o.json), { root: kid }, () => `Pinned publisher root ${kid}.`);
          return;
        }
        // the signed catalog names the editions before any activation; the root is pinned either way
        let catalog: { serial: number } | { error: string };
        try {
          catalog = { serial: await client.fetchCatalog(client.state().authorityUrl!) };
        } catch (err) {
          catalog = { error: err instanceof VolactError ? `${err.code}: ${err.message}` : String(err) };
        }
        emit(Boolean(o.json), { root: kid, catalog }, () =>
          'serial' in catalog
            ? `Pinned publisher root ${kid}. Catalog ${catalog.serial} fetched from the authority: edition names are known.`
            : `Pinned publisher root ${kid}. The catalog could not be fetched from the authority (${catalog.error}); edition names show after the first activation.`,
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
