import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { readUserFile } from '../../files.js';
import { ldapOptions, ldapValue } from '../../ldap-options.js';
import { emit, fail } from '../../output.js';
import { openClient } from './open-client.js';

/** `volact client directory`: join this machine to the directory (or leave it, or check what it reads). */
export function registerDirectory(cmd: Command): void {
  ldapOptions(
    cmd
      .command('directory')
      .description(
        "join this machine to the organisation's directory for directory activation (its machine account reads the activation objects)",
      ),
    {
      ldapUrl:
        'directory servers, comma-separated, tried in order (any replica, read-only ones too): ldap://HOST[:PORT] (StartTLS when offered) or ldaps://HOST[:PORT]',
      ldapBase: 'the directory suffix, e.g. dc=example,dc=com',
      ldapCa: "CA certificate of the servers' TLS certificates (default: the system's)",
    },
  )
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
        const client = await openClient(o.state as string | undefined);
        const [url, base, ca] = [ldapValue(o, 'ldapUrl'), ldapValue(o, 'ldapBase'), ldapValue(o, 'ldapCa')];
        if (o.clear && (url || base || o.bindDn || o.passwordFile || ca || o.allowPlainBind || o.check))
          throw new VolactError('USAGE', { detail: '--clear takes no other option' });
        if (o.clear) {
          client.setDirectory(null);
          emit(
            json,
            { directory: null },
            () => 'Left the directory: directory activation is off; the machine uses an activation host.',
          );
          return;
        }
        if (url || base || o.bindDn || o.passwordFile || ca || o.allowPlainBind) {
          if (!url || !base || !o.bindDn || !o.passwordFile)
            throw new VolactError('USAGE', {
              detail:
                'give --ldap-url, --ldap-base, --bind-dn and --password-file together, with --ldap-ca and --allow-plain-bind if wanted (or only --check, or --clear)',
            });
          client.setDirectory({
            urls: url
              .split(',')
              .map((u) => u.trim())
              .filter(Boolean),
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
        // the directory code (and its LDAP client) loads only for --check
        const directory = target ? await import('@volact/directory') : undefined;
        const check = target && directory ? await directory.checkDirectory(target) : null;
        const plainLabel = (c: { address: string }) =>
          directory?.isLoopback(c.address)
            ? 'no TLS, loopback'
            : 'NO TLS: the password went in clear (--allow-plain-bind)';
        emit(json, { directory: s.directory, check }, () =>
          [
            `Directory: ${s.directory!.urls.join(', ')} (${s.directory!.base}) as ${s.directory!.bindDn}.`,
            ...(check
              ? [
                  `Bound to ${check.server} (${check.tls ? 'TLS' : plainLabel(check)}); directory ID ${check.directoryId}; activation objects readable: ${check.objects.join(', ') || 'none'}.`,
                ]
              : []),
            'Activate with volact slmgr -ato; the agent reads the directory at every start and every 7 days.',
          ].join('\n'),
        );
      } catch (err) {
        fail(err, json);
      }
    });
}
