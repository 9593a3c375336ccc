import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { processClock } from '@volact/io';
import { writeUserFile } from '../../files.js';
import { confirmFile, localConfirmer, remoteConfirmer } from '../../confirm.js';
import { emit } from '../../output.js';
import { qrText, qrWanted } from '../../qr.js';
import { authorityPackage, cliActor, databaseOption, defaultDir, run, storeCommand, withAuthority } from './common.js';

/** Opens the local store for confirmations, when the first one is asked for. */
const openStore = (o: Record<string, unknown>) => async () =>
  (await authorityPackage()).openAuthority(
    (o.dir as string | undefined) ?? defaultDir(),
    processClock(),
    databaseOption(o),
  );

/** `authority offline-bundle` and `authority confirm`: offline (phone) activation. */
export function registerOffline(cmd: Command): void {
  storeCommand(cmd, 'offline-bundle')
    .description('write the offline bundle (root, offline issuer, catalog) air-gapped hosts and machines install')
    .requiredOption('--out <file>', 'where to write it')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const bundle = await authority.offlineBundle();
          writeUserFile(o.out as string, 'offline bundle', JSON.stringify(bundle, null, 2) + '\n');
          emit(
            Boolean(o.json),
            { written: o.out },
            () =>
              `Offline bundle written to ${o.out as string}. Install it with: volact client trust ${o.out as string} (hosts: volact host serve --root ${o.out as string}).`,
          );
        });
      }),
    );

  storeCommand(cmd, 'confirm')
    .argument('[installation-id]', 'one installation ID, as the customer read it out')
    .description(
      'offline activation: a confirmation ID for an installation ID, or for a whole file of them (proxy activation)',
    )
    .option('--in <file>', 'a file of installation IDs, one per line ("label IID" or "IID"; # comments)')
    .option('--out <file>', 'where to write the confirmations (with --in)')
    .option('--url <url>', "use a remote authority's admin API instead of the local store (with --token-file)")
    .option('--token-file <file>', 'file holding a token with the issue scope')
    .option('--no-qr', 'do not draw the QR code (it is drawn only on a terminal, or with VOLACT_QR=1)')
    .action(
      run(async (o) => {
        if (o.in !== undefined) {
          if (o._arg !== undefined)
            throw new VolactError('USAGE', { detail: 'give one installation ID or --in FILE, not both' });
          if (o.out === undefined)
            throw new VolactError('USAGE', { detail: '--in needs --out FILE for the confirmations' });
          const summary = await confirmFile(
            o.in as string,
            o.out as string,
            o.url
              ? remoteConfirmer(o.url as string, o.tokenFile as string | undefined)
              : localConfirmer(openStore(o), cliActor()),
          );
          emit(
            Boolean(o.json),
            summary,
            () => `${summary.confirmed} confirmed, ${summary.failed} failed; written to ${o.out as string}.`,
          );
          if (summary.failed > 0) process.exitCode = 5;
          return;
        }
        if (o._arg === undefined)
          throw new VolactError('USAGE', { detail: 'give an installation ID, or --in FILE --out FILE' });
        const confirmer = o.url
          ? remoteConfirmer(o.url as string, o.tokenFile as string | undefined)
          : localConfirmer(openStore(o), cliActor());
        const [result] = await confirmer.confirm([o._arg as string]);
        await confirmer.close();
        if (!result!.ok) throw result!.error;
        const c = result!.value;
        emit(Boolean(o.json), c, () =>
          [
            `Confirmation ID (${c.type}, key ${c.keyId}: ${c.outcome}, ${c.used} of ${c.limit} used):`,
            '',
            `  ${c.confirmationId}`,
            '',
            ...(o.qr !== false && qrWanted() ? [qrText(c.confirmationId)] : []),
          ].join('\n'),
        );
      }),
    );
}
