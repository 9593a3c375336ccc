import { join } from 'node:path';
import type { Command } from 'commander';
import { VolactError, issuerPurposes, type IssuerPurpose } from '@volact/protocol';
import { emit, iso, table } from '../../output.js';
import { processClock } from '@volact/io';
import { writeUserFile } from '../../files.js';
import {
  authorityPackage,
  cliActor,
  defaultDir,
  dirOpt,
  readCatalogFile,
  run,
  storeCommand,
  withAuthority,
} from './common.js';

/** `authority init`, `import-catalog` and `catalog`: the keys and the product catalog. */
export function registerSetup(cmd: Command): void {
  cmd
    .command('init')
    .description('create the root key (root.key: move it offline afterwards), the mint secret and the issuing keys')
    .option(...dirOpt)
    .option('--json', 'JSON output')
    .action(
      run(async (o) => {
        const dir = (o.dir as string | undefined) ?? defaultDir();
        const { initKeys } = await authorityPackage();
        const r = initKeys(dir, processClock().now());
        emit(Boolean(o.json), { dir, ...r }, () =>
          [
            `Authority created in ${dir}.`,
            `Root key ID ${r.rootKid}. Give ${r.rootPub} to hosts and clients (they pin it).`,
            `Keep ${join(dir, 'root.key')} offline once the issuing keys exist.`,
          ].join('\n'),
        );
      }),
    );

  storeCommand(cmd, 'import-catalog')
    .argument('[file]', 'catalog JSON (default: the sample catalog)')
    .description(
      'import a product catalog: products, editions, product groups; mints one setup key per edition and a VM key per guest edition',
    )
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const { sampleCatalogPath } = await authorityPackage();
          const c = await authority.importCatalog(
            readCatalogFile((o._arg as string | undefined) ?? sampleCatalogPath()),
            cliActor(),
          );
          emit(
            Boolean(o.json),
            c,
            () =>
              `Imported catalog serial ${c.serial}: ${c.editions.length} editions, ${c.groups.length} product groups.`,
          );
        });
      }),
    );

  storeCommand(cmd, 'catalog')
    .description(
      'show the catalog: editions with their public setup keys and, for guest editions, VM keys; and product groups',
    )
    .option(
      '--export <file>',
      'also write the signed catalog ({catalog, issuer}) for slmgr --host DIR -upd-catalog FILE',
    )
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const { catalog, jws, issuer } = await authority.catalog();
          if (o.export !== undefined)
            writeUserFile(
              o.export as string,
              'catalog export',
              JSON.stringify({ catalog: jws, issuer }, null, 2) + '\n',
            );
          emit(Boolean(o.json), catalog, () =>
            [
              `Catalog serial ${catalog.serial}`,
              '',
              // a guest edition may run in a VM of a hypervisor agent, activated with its VM key
              table(
                catalog.editions.map((e) => ({ ...e, guest: e.vmKey ? 'yes' : 'no' })),
                ['number', 'code', 'kind', 'guest', 'setupKey', 'vmKey', 'name'],
              ),
              '',
              table(
                catalog.groups.map((g) => ({ ...g, editions: g.editions.join(',') })),
                ['number', 'code', 'kind', 'editions', 'name'],
              ),
            ].join('\n'),
          );
        });
      }),
    );
}

/** `authority rotate-issuer`: a new issuing key, certified by the root. */
export function registerRotateIssuer(cmd: Command): void {
  cmd
    .command('rotate-issuer')
    .description('certify a new issuing key for one purpose (needs root.key); hosts and clients need no change')
    .requiredOption('--purpose <purpose>', issuerPurposes.join(' | '))
    .option(...dirOpt)
    .option('--json', 'JSON output')
    .action(
      run(async (o) => {
        const dir = (o.dir as string | undefined) ?? defaultDir();
        const purpose = o.purpose as IssuerPurpose;
        if (!issuerPurposes.includes(purpose))
          throw new VolactError('USAGE', { detail: `--purpose must be one of ${issuerPurposes.join(', ')}` });
        const { certifyIssuer, loadRootPair } = await authorityPackage();
        const issuer = certifyIssuer(dir, loadRootPair(dir), purpose, processClock().now());
        emit(
          Boolean(o.json),
          issuer.cert,
          () =>
            `New ${purpose} issuing key ${issuer.cert.kid}, valid until ${iso(issuer.cert.notAfter)}. Restart the authority to use it.`,
        );
      }),
    );
}
