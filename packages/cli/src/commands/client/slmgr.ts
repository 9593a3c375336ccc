import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { fail } from '../../output.js';
import { ldapOptions, ldapValue, type LdapFlags } from '../../ldap-options.js';
import { parseSlmgr, runSlmgr } from '../../slmgr.js';
import { clientOptions } from '../../slmgr/client.js';
import { hostOptions } from '../../slmgr/host.js';
import { hypervisorOptions } from '../../slmgr/hypervisor.js';
import { defaultHostDir } from '../host/inputs.js';
import { openClient } from './open-client.js';

/** `volact slmgr`: one slmgr option on this machine, or with --host DIR on an activation host. */
export function registerSlmgr(program: Command): void {
  ldapOptions(
    program
      .command('slmgr')
      .description(
        'slmgr-style options: -ipk KEY, -ato, -dli, -dlv, -xpr, -skms HOST[:PORT], -ckms, -skms-domain D, -ckms-domain, -skhc, -ckhc, -upk, -cpky, -rearm, -dti, -atp CID, -act-type 0|1|2; ' +
          'directory: -ad-activation-online HOST-KEY [NAME], -ad-activation-get-iid HOST-KEY, -ad-activation-apply-cid HOST-KEY CID [NAME], -ao-list, -del-ao NAME; ' +
          'with --host DIR: -ipk, -ato, -dli, -dlv, -xpr, -sai, -sri, -sprt, -upk, -dti, -atp, -sdns, -cdns, -spri, -cpri, -upd-catalog [FILE]; ' +
          'with --hypervisor DIR: -ipk, -upk, -ato, -dti, -atp, -dli, -dlv, -xpr, -upd-catalog [FILE]',
      )
      .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
      .option(
        '--host <dir>',
        'act on the activation host with this state directory (or set VOLACT_SLMGR_HOST=1 to use VOLACT_HOST_DIR)',
      )
      .option('--hypervisor <dir>', 'act on the hypervisor agent with this state directory (datacenter keys)')
      .option('--json', 'JSON output'),
    {
      ldapUrl:
        'directory servers for -ad-* and -ao-* (comma-separated ldap:// or ldaps:// URLs; env VOLACT_LDAP_URL; default: client directory)',
      ldapBase: 'the directory suffix (env VOLACT_LDAP_BASE)',
      ldapCa: "CA certificate of the directory servers' TLS certificates (env VOLACT_LDAP_CA)",
    },
  )
    .option(
      '--bind-dn <dn>',
      'the account to bind as: a directory administrator to create or delete objects (env VOLACT_LDAP_BIND_DN)',
    )
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
        const hypervisorDir = o.hypervisor as string | undefined;
        if (hypervisorDir !== undefined && o.host !== undefined)
          throw new VolactError('USAGE', { detail: 'give --host DIR or --hypervisor DIR, not both' });
        // VOLACT_SLMGR_HOST=1 names the host's default directory; --hypervisor DIR overrides it
        const hostDir =
          (o.host as string | undefined) ??
          (process.env.VOLACT_SLMGR_HOST === '1' && hypervisorDir === undefined ? defaultHostDir() : undefined);
        const call = parseSlmgr(
          rest,
          hypervisorDir !== undefined ? 'hypervisor' : hostDir !== undefined ? 'host' : 'client',
        );
        const ldap = {
          ldapUrl: ldapValue(o, 'ldapUrl'),
          ldapBase: ldapValue(o, 'ldapBase'),
          bindDn: o.bindDn,
          passwordFile: o.passwordFile,
          ldapCa: ldapValue(o, 'ldapCa'),
          allowPlainBind: Boolean(o.allowPlainBind),
          authority: o.authority,
        } as LdapFlags;
        process.exitCode = hypervisorDir
          ? await runSlmgr(hypervisorOptions, { dir: hypervisorDir }, call, json)
          : hostDir
            ? await runSlmgr(hostOptions, { dir: hostDir }, call, json)
            : await runSlmgr(
                clientOptions,
                { client: await openClient(o.state as string | undefined), ldap },
                call,
                json,
              );
      } catch (err) {
        fail(err, json);
      }
    });
}
