import type { Command } from 'commander';
import { VolactError, type Schema } from '@volact/protocol';
import { callAuthority } from '@volact/server-kit';
import { Client, readEvents, runAgent, stateDir } from '@volact/client';
import { processClock } from '../process-clock.js';
import { emit, fail, table } from '../output.js';
import { clientFor, parseSlmgr, slmgrClient, slmgrHost } from '../slmgr.js';
import { defaultHostDir, readRootPem } from './host.js';
import { readUserFile } from '../files.js';
import { isLoopback, listObjects, readDirectoryId } from '@volact/directory';
import { ldapOptions, ldapValue, withSession, type LdapFlags } from '../directory.js';

/** The authority's answer is shown as it comes; the authority validated it. */
const anyJson: Schema<unknown> = { check: () => undefined, describe: () => ({}) };

/** POSTs to the authority (from --authority, VOLACT_AUTHORITY_URL or the client state); errors keep their codes. */
async function askAuthority(o: Record<string, string | boolean | undefined>, path: string, body: unknown): Promise<unknown> {
  const client = new Client({ dir: stateDir(o.state as string | undefined), clock: processClock() });
  const base = (o.authority as string | undefined) ?? process.env.VOLACT_AUTHORITY_URL ?? client.state().authorityUrl;
  if (!base) throw new VolactError('NO_AUTHORITY');
  return callAuthority(base, path, body, anyJson);
}

const plainLabel = (c: { address: string }) => (isLoopback(c.address) ? 'no TLS, loopback' : 'NO TLS: the password went in clear (--allow-plain-bind)');

/** `volact slmgr`, `volact client …` and `volact agent`: the machine's side. */
export function registerClient(program: Command): void {
  ldapOptions(
    program
      .command('slmgr')
      .description(
        'slmgr-style options: -ipk KEY, -ato, -dli, -dlv, -xpr, -skms HOST[:PORT], -ckms, -skms-domain D, -ckms-domain, -skhc, -ckhc, -upk, -cpky, -rearm, -dti, -atp CID, -act-type 0|1|2; ' +
          'directory: -ad-activation-online HOST-KEY [NAME], -ad-activation-get-iid HOST-KEY, -ad-activation-apply-cid HOST-KEY CID [NAME], -ao-list, -del-ao NAME; ' +
          'with --host DIR: -ipk, -ato, -dli, -dlv, -xpr, -sai, -sri, -sprt, -upk, -dti, -atp, -sdns, -cdns',
      )
      .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
      .option('--host <dir>', 'act on the activation host with this state directory (or set VOLACT_SLMGR_HOST=1 to use VOLACT_HOST_DIR)')
      .option('--json', 'JSON output'),
    {
      ldapUrl: 'directory servers for -ad-* and -ao-* (comma-separated ldap:// or ldaps:// URLs; env VOLACT_LDAP_URL; default: client directory)',
      ldapBase: 'the directory suffix (env VOLACT_LDAP_BASE)',
      ldapCa: "CA certificate of the directory servers' TLS certificates (env VOLACT_LDAP_CA)",
    },
  )
    .option('--bind-dn <dn>', 'the account to bind as: a directory administrator to create or delete objects (env VOLACT_LDAP_BIND_DN)')
    .option('--password-file <file>', "that account's password (env VOLACT_LDAP_PASSWORD_FILE)")
    .option('--allow-plain-bind', 'send the password in clear to a server off loopback that offers no TLS')
    .option('--authority <url>', 'the authority, for -ad-activation-online (default: the one set with client trust)')
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[args...]')
    .helpOption('-?, --help')
    .action(async (args: string[], o: Record<string, string | boolean | undefined>) => {
      const json = Boolean(o.json);
      try {
        const rest = args.filter((a) => a !== '--json');
        const hostDir = (o.host as string | undefined) ?? (process.env.VOLACT_SLMGR_HOST === '1' ? defaultHostDir() : undefined);
        const call = parseSlmgr(rest, hostDir !== undefined);
        const ldap = { ldapUrl: ldapValue(o, 'ldapUrl'), ldapBase: ldapValue(o, 'ldapBase'), bindDn: o.bindDn, passwordFile: o.passwordFile, ldapCa: ldapValue(o, 'ldapCa'), allowPlainBind: Boolean(o.allowPlainBind), authority: o.authority } as LdapFlags;
        const code = hostDir ? await slmgrHost(call, hostDir, json) : await slmgrClient(call, clientFor(stateDir(o.state as string | undefined), processClock()), json, ldap);
        process.exitCode = code;
      } catch (err) {
        fail(err, json);
      }
    });

  const cmd = program.command('client').description('client machine settings beyond slmgr');
  cmd
    .command('trust')
    .argument('<file>', "the publisher's root.pub, or its offline bundle (volact-offline.json) for offline activation")
    .description('pin the publisher root key that every answer must chain to (an offline bundle also enables -dti / -atp)')
    .option('--replace', 'replace a root pinned before (the publisher changed its root)')
    .option('--authority <url>', "the publisher's authority, for MAK activation and creating directory activation objects")
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (file: string, o: Record<string, string | boolean | undefined>) => {
      try {
        const client = new Client({ dir: stateDir(o.state as string | undefined), clock: processClock() });
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
  ldapOptions(cmd.command('directory').description("join this machine to the organisation's directory for directory activation (its machine account reads the activation objects)"), {
    ldapUrl: 'directory servers, comma-separated, tried in order (any replica, read-only ones too): ldap://HOST[:PORT] (StartTLS when offered) or ldaps://HOST[:PORT]',
    ldapBase: 'the directory suffix, e.g. dc=example,dc=com',
    ldapCa: "CA certificate of the servers' TLS certificates (default: the system's)",
  })
    .option('--bind-dn <dn>', "this machine's account, e.g. cn=pc1,ou=computers,dc=example,dc=com")
    .option('--password-file <file>', "the machine account's password (copied into the state directory with mode 0600)")
    .option('--allow-plain-bind', 'send the password in clear to a server off loopback that offers no TLS')
    .option('--check', 'bind now and show what the machine reads')
    .option('--clear', 'leave the directory (directory activation stops; an activation host is used)')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      const json = Boolean(o.json);
      try {
        const client = new Client({ dir: stateDir(o.state as string | undefined), clock: processClock() });
        const [url, base, ca] = [ldapValue(o, 'ldapUrl'), ldapValue(o, 'ldapBase'), ldapValue(o, 'ldapCa')];
        if (o.clear && (url || base || o.bindDn || o.passwordFile || ca || o.allowPlainBind || o.check)) throw new VolactError('USAGE', { detail: '--clear takes no other option' });
        if (o.clear) {
          client.setDirectory(null);
          emit(json, { directory: null }, () => 'Left the directory: directory activation is off; the machine uses an activation host.');
          return;
        }
        if (url || base || o.bindDn || o.passwordFile || ca || o.allowPlainBind) {
          if (!url || !base || !o.bindDn || !o.passwordFile) throw new VolactError('USAGE', { detail: 'give --ldap-url, --ldap-base, --bind-dn and --password-file together, with --ldap-ca and --allow-plain-bind if wanted (or only --check, or --clear)' });
          client.setDirectory({
            urls: url.split(',').map((u) => u.trim()).filter(Boolean),
            base,
            bindDn: String(o.bindDn),
            password: readUserFile(String(o.passwordFile), 'password').replace(/\r?\n$/, ''),
            ...(ca ? { ca: readUserFile(ca, 'CA certificate') } : {}),
            allowPlainBind: Boolean(o.allowPlainBind),
          });
        }
        const s = client.state();
        if (!s.directory) throw new VolactError('DIRECTORY_NOT_CONFIGURED');
        const target = o.check ? client.directoryTarget(s) : undefined;
        const check = target
          ? await withSession(target, async (session) => ({
              server: session.url,
              tls: session.tls,
              address: session.address,
              directoryId: (await readDirectoryId(session, target.base)).directoryId,
              objects: (await listObjects(session, target.base)).map((x) => x.name),
            }))
          : null;
        emit(json, { directory: s.directory, check }, () =>
          [
            `Directory: ${s.directory!.urls.join(', ')} (${s.directory!.base}) as ${s.directory!.bindDn}.`,
            ...(check ? [`Bound to ${check.server} (${check.tls ? 'TLS' : plainLabel(check)}); directory ID ${check.directoryId}; activation objects readable: ${check.objects.join(', ') || 'none'}.`] : []),
            'Activate with volact slmgr -ato; the agent reads the directory at every start and every 7 days.',
          ].join('\n'),
        );
      } catch (err) {
        fail(err, json);
      }
    });
  cmd
    .command('identity')
    .argument('[name]', 'identity for a VDI pool member or container (stable across rebuilds)')
    .option('--clear', 'go back to the OS machine identity')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .description('set the machine identity explicitly (VDI pools, containers); gives a stable machine ID')
    .action((name: string | undefined, o: Record<string, string | boolean | undefined>) => {
      try {
        if (!name && !o.clear) throw new VolactError('USAGE', { detail: 'give an identity name, or --clear' });
        if (name && !/^[A-Za-z0-9._:-]{1,128}$/.test(name)) throw new VolactError('USAGE', { detail: 'an identity is 1-128 letters, digits, and . _ : -' });
        const s = new Client({ dir: stateDir(o.state as string | undefined), clock: processClock() }).setIdentity(o.clear ? null : name!);
        emit(Boolean(o.json), { machineId: s.machine.id, identity: s.machine.identity }, () => `Machine ID is now ${s.machine.id}${s.machine.identity ? ` (identity ${s.machine.identity})` : ''}. Activate again with volact slmgr -ato.`);
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  cmd
    .command('dns-server')
    .argument('[server]', 'IPV4[:PORT] or [IPV6][:PORT] of the DNS server that has the _volact._tcp records (port 53 by default)')
    .option('--clear', "go back to the system's resolver (/etc/resolv.conf)")
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .description("the DNS server asked for activation hosts' SRV records and addresses (split-horizon or lab zones); default: the system's resolver")
    .action((server: string | undefined, o: Record<string, string | boolean | undefined>) => {
      try {
        if (server === undefined ? !o.clear : o.clear) throw new VolactError('USAGE', { detail: 'give a DNS server (IPV4[:PORT] or [IPV6]:PORT), or --clear' });
        const s = new Client({ dir: stateDir(o.state as string | undefined), clock: processClock() }).setDnsServer(server ?? null);
        const set = s.discovery.dnsServer;
        emit(Boolean(o.json), { dnsServer: set }, () =>
          set ? `DNS server for finding activation hosts set to ${set} successfully.` : "DNS server cleared successfully; activation hosts are found through the system's resolver.",
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  cmd
    .command('request-increase')
    .description('ask the publisher for more activations (MAK, host key) or hosts (host key)')
    .requiredOption('--key <key>', 'the MAK or host key the request is about')
    .requiredOption('--count <n>', 'how many more')
    .option('--what <what>', 'activations | hosts', 'activations')
    .requiredOption('--reason <text>', 'why (the publisher reads it)')
    .option('--authority <url>', 'authority URL (default: the one set with client trust)')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const r = await askAuthority(o, '/v1/increase-requests', { v: 1, key: o.key, what: o.what, amount: Number(o.count), reason: o.reason });
        emit(Boolean(o.json), r, () => `Request ${(r as { id: string }).id} filed; it is pending. Check it with volact client request-status --id ${(r as { id: string }).id} --key KEY.`);
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  cmd
    .command('request-status')
    .description('the state of an increase request, with every step')
    .requiredOption('--id <id>', 'request ID (IR-…)')
    .requiredOption('--key <key>', 'the key the request is about')
    .option('--authority <url>', 'authority URL (default: the one set with client trust)')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const r = (await askAuthority(o, '/v1/increase-requests/status', { v: 1, key: o.key, id: o.id })) as { id: string; state: string; steps: { step: string; at: number; detail: string }[] };
        emit(Boolean(o.json), r, () => [`Request ${r.id}: ${r.state}`, ...r.steps.map((st) => `  ${new Date(st.at).toISOString()}  ${st.step}: ${st.detail}`)].join('\n'));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('events')
    .description('client events: 12288 request sent, 12289 answer processed, machine ID renewals')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--limit <n>', 'newest N', '100')
    .option('--json', 'JSON output')
    .action((o: Record<string, string | boolean | undefined>) => {
      try {
        const events = readEvents(stateDir(o.state as string | undefined), Math.max(1, Math.min(Number(o.limit) || 100, 100_000)));
        emit(Boolean(o.json), events, () => table(events, ['at', 'event', 'machineId', 'licenseState', 'host', 'outcome', 'count', 'required']));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  program
    .command('agent')
    .description('keep this machine activated: activate at start, retry every retry interval, renew every renewal interval')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .action(async (o: Record<string, string | undefined>) => {
      try {
        const clock = processClock();
        let stopped = false;
        process.on('SIGTERM', () => (stopped = true));
        process.on('SIGINT', () => (stopped = true));
        await runAgent(new Client({ dir: stateDir(o.state), clock }), clock, {
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          log: (l) => process.stdout.write(l + '\n'),
          stop: () => stopped,
          pollMs: 5_000,
        });
      } catch (err) {
        fail(err, false);
      }
    });
}
