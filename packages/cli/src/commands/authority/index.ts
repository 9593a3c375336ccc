import { fileLimits, readUserFile } from '../files.js';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { VolactError, issuerPurposes, type IssuerPurpose } from '@volact/protocol';
import { type Authority, certifyIssuer, initKeys, loadRootPair, openAuthority, runAuthority, sampleCatalogPath } from '@volact/authority';
import { processClock } from '../process-clock.js';
import { emit, fail, iso, table } from '../output.js';
import { confirmFile, localConfirmer, remoteConfirmer } from '../confirm.js';
import { qrText, qrWanted } from '../qr.js';
import { defaultConnectionLimits, writeFileAtomic } from '@volact/server-kit';
import { connectionOptions } from '../connection-options.js';

const defaultDir = () => process.env.VOLACT_AUTHORITY_DIR ?? '/var/lib/volact/authority';

function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || n > max) throw new VolactError('VALUE_OUT_OF_RANGE', { name, min, max, value: text });
  return n;
}

/** Writes made with the CLI on the authority's machine are audited under the operator's login. */
function cliActor(): string {
  let user = process.env.SUDO_USER ?? process.env.USER ?? '?';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep the environment's name
  }
  return `cli:${user}`;
}

function readCatalogFile(path: string): unknown {
  const text = readUserFile(path, 'catalog', fileLimits.catalog);
  try {
    return JSON.parse(text);
  } catch {
    throw new VolactError('CATALOG_INVALID', { detail: `${path} is not JSON` });
  }
}

/** Opens the authority (its directory, and --database when given) for one command and always closes its store. */
async function withAuthority<T>(o: Record<string, unknown>, fn: (authority: Authority) => Promise<T>): Promise<T> {
  const { authority, close } = await openAuthority((o.dir as string | undefined) ?? defaultDir(), processClock(), databaseOption(o));
  try {
    return await fn(authority);
  } finally {
    await close();
  }
}

/** --database or VOLACT_AUTHORITY_DATABASE: a postgres:// URL; default the SQLite file in the directory. */
function databaseOption(o: Record<string, unknown>): string | undefined {
  return (o.database as string | undefined) ?? process.env.VOLACT_AUTHORITY_DATABASE;
}

/** `volact authority …`: the publisher's side. */
export function registerAuthority(program: Command): void {
  const cmd = program.command('authority').description("the publisher's authority: keys, catalog, host keys, the activation service");
  const dirOpt = ['--dir <dir>', 'authority directory (env VOLACT_AUTHORITY_DIR)'] as const;
  const dbOpt = ['--database <url>', 'postgres://… to share one PostgreSQL between nodes (env VOLACT_AUTHORITY_DATABASE); default: SQLite in the directory'] as const;
  /** A subcommand that opens the store: --dir, --database and --json, declared once. */
  const storeCommand = (name: string) =>
    cmd
      .command(name)
      .option(...dirOpt)
      .option(...dbOpt)
      .option('--json', 'JSON output');
  const run =
    (fn: (o: Record<string, string | boolean | undefined>) => void | Promise<void>) =>
    async (...args: unknown[]) => {
      const opts = (args[args.length - 1] as Command).opts();
      try {
        await fn({ ...opts, _arg: args[0] as string | undefined });
      } catch (err) {
        fail(err, Boolean(opts.json));
      }
    };

  cmd
    .command('init')
    .description('create the root key (root.key: move it offline afterwards), the mint secret and the issuing keys')
    .option(...dirOpt)
    .option('--json', 'JSON output')
    .action(
      run((o) => {
        const dir = (o.dir as string | undefined) ?? defaultDir();
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

  storeCommand('import-catalog')
    .argument('[file]', 'catalog JSON (default: the sample catalog)')
    .description('import a product catalog: products, editions, product groups; mints one setup key per edition')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const c = await authority.importCatalog(readCatalogFile((o._arg as string | undefined) ?? sampleCatalogPath()), cliActor());
          emit(Boolean(o.json), c, () => `Imported catalog serial ${c.serial}: ${c.editions.length} editions, ${c.groups.length} product groups.`);
        });
      }),
    );

  storeCommand('catalog')
    .description('show the catalog: editions with their public setup keys, and product groups')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const { catalog } = await authority.catalog();
          emit(Boolean(o.json), catalog, () =>
            [
              `Catalog serial ${catalog.serial}`,
              '',
              table(catalog.editions as unknown as Record<string, unknown>[], ['number', 'code', 'kind', 'setupKey', 'name']),
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

  storeCommand('issue-host-key')
    .description('issue a host key for a product group (shown once; only its hash is stored)')
    .requiredOption('--group <code>', 'product group code, e.g. server-2026')
    .option('--hosts <n>', 'distinct hosts allowed (default 6)')
    .option('--activations <n>', 'activations allowed in all (default 10)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const k = await authority.issueHostKey(o.group as string, {
            maxHosts: intOption('hosts', o.hosts as string | undefined, 1, 100_000),
            maxActivations: intOption('activations', o.activations as string | undefined, 1, 100_000),
          }, cliActor());
          emit(Boolean(o.json), k, () => `${k.key}\nHost key ${k.id} for ${k.group}: ${k.maxHosts} hosts, ${k.maxActivations} activations. It is shown only now.`);
        });
      }),
    );

  storeCommand('host-keys')
    .description('list issued host keys with hosts and activations used (never the whole key)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          // numbers in JSON, named as -ato --json names them; "used/limit" only in the table
          const rows = (await authority.listHostKeys()).map((k) => ({
            id: k.id,
            key: `*****-*****-*****-*****-${k.partial}`,
            group: k.groupCode,
            hostsUsed: k.hostsUsed,
            hostsLimit: k.maxHosts,
            activationsUsed: k.usedActivations,
            activationsLimit: k.maxActivations,
            issued: iso(k.createdAt),
          }));
          const cells = rows.map((r) => ({ ...r, hosts: `${r.hostsUsed}/${r.hostsLimit}`, activations: `${r.activationsUsed}/${r.activationsLimit}` }));
          emit(Boolean(o.json), rows, () => table(cells, ['id', 'key', 'group', 'hosts', 'activations', 'issued']));
        });
      }),
    );

  storeCommand('issue-mak')
    .description('issue a MAK (multiple activation key) for one edition (shown once; only its hash is stored)')
    .requiredOption('--edition <code>', 'edition code, e.g. desk-enterprise')
    .requiredOption('--activations <n>', 'how many machines it may activate')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const k = await authority.issueMak(o.edition as string, intOption('activations', o.activations as string, 1, 10_000_000)!, cliActor());
          emit(Boolean(o.json), k, () => `${k.key}\nMAK ${k.id} for ${k.edition}: ${k.maxActivations} activations. It is shown only now.`);
        });
      }),
    );

  storeCommand('maks')
    .description('list issued MAKs with activations used (never the whole key)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const rows = (await authority.listMaks()).map((k) => ({
            id: k.id,
            key: `*****-*****-*****-*****-${k.partial}`,
            edition: k.edition,
            activationsUsed: k.usedActivations,
            activationsLimit: k.maxActivations,
            activationsLeft: k.maxActivations - k.usedActivations,
            issued: iso(k.createdAt),
          }));
          const cells = rows.map((r) => ({ ...r, activations: `${r.activationsUsed}/${r.activationsLimit}`, left: r.activationsLeft }));
          emit(Boolean(o.json), rows, () => table(cells, ['id', 'key', 'edition', 'activations', 'left', 'issued']));
        });
      }),
    );

  storeCommand('requests')
    .description('increase requests from customers, with every step')
    .option('--state <state>', 'pending | approved | rejected')
    .action(
      run(async (o) => {
        const state = o.state as 'pending' | 'approved' | 'rejected' | undefined;
        if (state && !['pending', 'approved', 'rejected'].includes(state)) throw new VolactError('USAGE', { detail: '--state is pending, approved or rejected' });
        await withAuthority(o, async (authority) => {
          const rows = await authority.increaseRequests(state);
          emit(Boolean(o.json), rows, () => table(rows.map((r) => ({ ...r, asked: `${r.amount} ${r.what}`, created: iso(r.createdAt) })), ['id', 'keyKind', 'keyId', 'asked', 'state', 'granted', 'created', 'reason']));
        });
      }),
    );

  for (const verb of ['approve', 'reject'] as const) {
    storeCommand(verb)
      .argument('<id>', 'request ID (IR-…)')
      .description(verb === 'approve' ? 'approve a request: the limit rises at once (by --amount, default what was asked)' : 'reject a request')
      .option('--amount <n>', 'how many to grant (approve only)')
      .option('--note <text>', 'a note the customer sees')
      .action(
        run(async (o) => {
          await withAuthority(o, async (authority) => {
            const amount = verb === 'approve' ? intOption('amount', o.amount as string | undefined, 1, 10_000_000) : undefined;
            const r = await authority.decideIncrease(o._arg as string, verb === 'approve', amount, o.note as string | undefined, cliActor());
            emit(Boolean(o.json), r, () => `Request ${r.id} ${r.state}${r.granted ? `: ${r.granted} more ${r.what}` : ''}.`);
          });
        }),
      );
  }

  storeCommand('release-host')
    .description('free the host slot of a decommissioned host on a host key')
    .requiredOption('--key-id <id>', 'host key ID (HK-…)')
    .requiredOption('--host-id <id>', 'host ID (H…, shown by the host -dlv)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          await authority.releaseHost(o.keyId as string, o.hostId as string, cliActor());
          emit(Boolean(o.json), { released: true }, () => `Host ${o.hostId as string} no longer holds a slot on ${o.keyId as string}.`);
        });
      }),
    );

  const token = cmd.command('token').description('admin API tokens (bearer, scoped; only a hash is stored)');
  /** A token subcommand: opens the store like the others (--dir, --database, --json). */
  const tokenCommand = (name: string) => token.command(name).option(...dirOpt).option(...dbOpt).option('--json', 'JSON output');
  tokenCommand('create')
    .description('create a token; its secret is shown once')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--scope <scopes>', 'comma-separated: read, issue, approve, admin')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const t = await authority.createToken(o.name as string, String(o.scope).split(',').map((x) => x.trim()).filter(Boolean), cliActor());
          emit(Boolean(o.json), t, () => `${t.token}\nToken ${t.id} (${t.name}) with scopes ${t.scopes.join(', ')}. It is shown only now; send it as Authorization: Bearer TOKEN.`);
        });
      }),
    );
  tokenCommand('list')
    .description('tokens, never their secrets')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const rows = (await authority.listTokens()).map(({ tokenHash: _h, ...t }) => ({ ...t, scopes: t.scopes.join(','), created: iso(t.createdAt), revoked: iso(t.revokedAt) }));
          emit(Boolean(o.json), rows, () => table(rows, ['id', 'name', 'scopes', 'created', 'revoked']));
        });
      }),
    );
  tokenCommand('revoke')
    .argument('<id>', 'token ID (T…)')
    .description('revoke a token at once, on every node')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          await authority.revokeToken(o._arg as string, cliActor());
          emit(Boolean(o.json), { revoked: o._arg }, () => `Token ${o._arg as string} revoked.`);
        });
      }),
    );

  storeCommand('audit')
    .description('the audit log of administrative writes, newest first')
    .option('--limit <n>', 'how many entries', '50')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const rows = (await authority.auditLog(intOption('limit', o.limit as string, 1, 10_000)!)).map((r) => ({ ...r, at: iso(r.at) }));
          emit(Boolean(o.json), rows, () => table(rows, ['at', 'actor', 'action', 'target', 'detail']));
        });
      }),
    );

  storeCommand('offline-bundle')
    .description('write the offline bundle (root, offline issuer, catalog) air-gapped hosts and machines install')
    .requiredOption('--out <file>', 'where to write it')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const bundle = await authority.offlineBundle();
          writeFileAtomic(o.out as string, JSON.stringify(bundle, null, 2) + '\n', 0o644);
          emit(Boolean(o.json), { written: o.out }, () => `Offline bundle written to ${o.out as string}. Install it with: volact client trust ${o.out as string} (hosts: volact host serve --root ${o.out as string}).`);
        });
      }),
    );

  storeCommand('confirm')
    .argument('[installation-id]', 'one installation ID, as the customer read it out')
    .description('offline activation: a confirmation ID for an installation ID, or for a whole file of them (proxy activation)')
    .option('--in <file>', 'a file of installation IDs, one per line ("label IID" or "IID"; # comments)')
    .option('--out <file>', 'where to write the confirmations (with --in)')
    .option('--url <url>', 'use a remote authority\'s admin API instead of the local store (with --token-file)')
    .option('--token-file <file>', 'file holding a token with the issue scope')
    .option('--no-qr', 'do not draw the QR code (it is drawn only on a terminal, or with VOLACT_QR=1)')
    .action(
      run(async (o) => {
        if (o.in !== undefined) {
          if (o._arg !== undefined) throw new VolactError('USAGE', { detail: 'give one installation ID or --in FILE, not both' });
          if (o.out === undefined) throw new VolactError('USAGE', { detail: '--in needs --out FILE for the confirmations' });
          const summary = await confirmFile(o.in as string, o.out as string, o.url ? remoteConfirmer(o.url as string, o.tokenFile as string | undefined) : localConfirmer(() => openAuthority((o.dir as string | undefined) ?? defaultDir(), processClock(), databaseOption(o)), cliActor()));
          emit(Boolean(o.json), summary, () => `${summary.confirmed} confirmed, ${summary.failed} failed; written to ${o.out as string}.`);
          if (summary.failed > 0) process.exitCode = 5;
          return;
        }
        if (o._arg === undefined) throw new VolactError('USAGE', { detail: 'give an installation ID, or --in FILE --out FILE' });
        const confirmer = o.url ? remoteConfirmer(o.url as string, o.tokenFile as string | undefined) : localConfirmer(() => openAuthority((o.dir as string | undefined) ?? defaultDir(), processClock(), databaseOption(o)), cliActor());
        const [result] = await confirmer.confirm([o._arg as string]);
        await confirmer.close();
        if (!result!.ok) throw result!.error;
        const c = result!.value;
        emit(Boolean(o.json), c, () =>
          [`Confirmation ID (${c.type}, key ${c.keyId}: ${c.outcome}, ${c.used} of ${c.limit} used):`, '', `  ${c.confirmationId}`, '', ...(o.qr !== false && qrWanted() ? [qrText(c.confirmationId)] : [])].join('\n'),
        );
      }),
    );

  cmd
    .command('rotate-issuer')
    .description('certify a new issuing key for one purpose (needs root.key); hosts and clients need no change')
    .requiredOption('--purpose <purpose>', issuerPurposes.join(' | '))
    .option(...dirOpt)
    .option('--json', 'JSON output')
    .action(
      run((o) => {
        const dir = (o.dir as string | undefined) ?? defaultDir();
        const purpose = o.purpose as IssuerPurpose;
        if (!issuerPurposes.includes(purpose)) throw new VolactError('USAGE', { detail: `--purpose must be one of ${issuerPurposes.join(', ')}` });
        const issuer = certifyIssuer(dir, loadRootPair(dir), purpose, processClock().now());
        emit(Boolean(o.json), issuer.cert, () => `New ${purpose} issuing key ${issuer.cert.kid}, valid until ${iso(issuer.cert.notAfter)}. Restart the authority to use it.`);
      }),
    );

  cmd
    .command('serve')
    .description('serve the authority API (host activation, catalog)')
    .option('--port <port>', 'TCP port', '8180')
    .option('--listen <address>', 'address to listen on (plain HTTP: loopback only)', '127.0.0.1')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM)')
    .option('--tls-key <file>', 'and this private key (PEM, keep it 0600)')
    .option('--behind-tls-proxy', 'plain HTTP on a non-loopback address because a TLS-terminating proxy on this machine is in front')
    .option('--rate-per-address <n>', 'activation requests a minute from one address, across all nodes (0: off)', '120')
    .option('--rate-per-key <n>', 'activation requests a minute for one product key, across all nodes (0: off)', '30')
    .option('--max-connections <n>', 'open connections in all; at the cap the longest idle one is closed (0: no cap)', String(defaultConnectionLimits.total))
    .option('--max-connections-per-address <n>', 'open connections from one address (0: no cap; behind a proxy every client is the proxy)', String(defaultConnectionLimits.perAddress))
    .option(...dirOpt)
    .option(...dbOpt)
    .option('--json', 'errors as JSON')
    .action(
      run(async (o) => {
        const dir = (o.dir as string | undefined) ?? defaultDir();
        const port = intOption('port', o.port as string, 0, 65535)!;
        const listenOn = o.listen as string;
        if (Boolean(o.tlsCert) !== Boolean(o.tlsKey)) throw new VolactError('USAGE', { detail: '--tls-cert and --tls-key go together' });
        const tls = o.tlsCert ? { cert: readUserFile(o.tlsCert as string, 'TLS certificate'), key: readUserFile(o.tlsKey as string, 'TLS key') } : undefined;
        // plain HTTP would carry keys and tokens in clear: only on loopback, or behind a local TLS proxy
        if (!tls && !isLoopback(listenOn) && !o.behindTlsProxy) throw new VolactError('TLS_REQUIRED', { address: listenOn });
        const limits = {
          perAddress: intOption('rate-per-address', o.ratePerAddress as string, 0, 1_000_000)!,
          perKey: intOption('rate-per-key', o.ratePerKey as string, 0, 1_000_000)!,
        };
        const a = await runAuthority(dir, processClock(), port, listenOn, databaseOption(o), limits, tls, connectionOptions(o));
        process.stdout.write(`authority listening on ${tls ? 'https' : 'http'}://${o.listen as string}:${a.port}\n`);
        const stop = () => void a.close().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      }),
    );
}
