import { Option, type Command } from 'commander';
import { VolactError } from '@volact/protocol';
import type { Client } from '@volact/client';
import type { AdminContext, DirectoryTarget } from '@volact/directory';
import { readUserFile } from './files.js';

/** LDAP connection flags of `volact slmgr` (each also from the environment, then from `client directory`). */
export type LdapFlags = {
  ldapUrl?: string;
  ldapBase?: string;
  bindDn?: string;
  passwordFile?: string;
  ldapCa?: string;
  allowPlainBind?: boolean;
  authority?: string;
};

/**
 * One spelling for the directory options of `slmgr` and `client directory` (issue 10):
 * --ldap-url, --ldap-base and --ldap-ca, as in VOLACT_LDAP_URL, _BASE and _CA, and never to be
 * mistaken for an authority's URL. --url, --base and --ca, the spelling `client directory` had
 * first, stay as hidden aliases.
 */
const aliases = {
  ldapUrl: ['--ldap-url', 'url'],
  ldapBase: ['--ldap-base', 'base'],
  ldapCa: ['--ldap-ca', 'ca'],
} as const;

/** Adds --ldap-url URLS, --ldap-base DN and --ldap-ca FILE with these descriptions, and their hidden aliases. */
export function ldapOptions(command: Command, descriptions: Record<keyof typeof aliases, string>): Command {
  const values = { ldapUrl: 'urls', ldapBase: 'dn', ldapCa: 'file' } as const;
  for (const name of ['ldapUrl', 'ldapBase', 'ldapCa'] as const) {
    const [flag, alias] = aliases[name];
    command
      .option(`${flag} <${values[name]}>`, descriptions[name])
      .addOption(new Option(`--${alias} <${values[name]}>`, `same as ${flag}`).hideHelp());
  }
  return command;
}

/** The value of a directory option given in either spelling; two different values are USAGE. */
export function ldapValue(o: Record<string, unknown>, name: keyof typeof aliases): string | undefined {
  const [flag, alias] = aliases[name];
  const canonical = o[name] as string | undefined;
  const other = o[alias] as string | undefined;
  if (canonical !== undefined && other !== undefined && canonical !== other)
    throw new VolactError('USAGE', { detail: `${flag} and --${alias} are the same option; give it once` });
  return canonical ?? other;
}

/** A password or CA file, without the final newline an editor adds. */
const readSecretFile = (path: string, what: string) => readUserFile(path, what).replace(/\r?\n$/, '');

/**
 * The directory to act on: --ldap-url/--ldap-base/--bind-dn/--password-file (or VOLACT_LDAP_*),
 * else this machine's own directory settings (volact client directory).
 */
export function ldapTarget(flags: LdapFlags, client: Client, env: NodeJS.ProcessEnv = process.env): DirectoryTarget {
  const settings = client.state().directory;
  const urlText = flags.ldapUrl ?? env.VOLACT_LDAP_URL;
  const urls = urlText
    ? urlText
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean)
    : settings?.urls;
  const base = flags.ldapBase ?? env.VOLACT_LDAP_BASE ?? settings?.base;
  const bindDn = flags.bindDn ?? env.VOLACT_LDAP_BIND_DN ?? settings?.bindDn;
  const passwordFile = flags.passwordFile ?? env.VOLACT_LDAP_PASSWORD_FILE;
  const caFile = flags.ldapCa ?? env.VOLACT_LDAP_CA;
  if (!urls?.length || !base || !bindDn) throw new VolactError('DIRECTORY_NOT_CONFIGURED');
  // the machine's own settings (its password, CA, a plain-bind exception) apply only to its own
  // directory and account, never to other servers or another account given on the command line;
  // its stored secret is read only when it is used
  const own = settings !== null && !urlText && bindDn === settings.bindDn;
  const joined = own && (!passwordFile || (!caFile && settings.ca)) ? client.directoryTarget() : undefined;
  const password = passwordFile ? readSecretFile(passwordFile, 'password') : (joined?.password ?? '');
  if (!password) throw new VolactError('USAGE', { detail: `give the password of ${bindDn} with --password-file FILE` });
  const ca = caFile ? readSecretFile(caFile, 'CA certificate') : joined?.ca;
  return {
    urls,
    base,
    bindDn,
    password,
    allowPlainBind: Boolean(flags.allowPlainBind) || (own && settings.allowPlainBind),
    ...(ca ? { ca } : {}),
  };
}

/** What the directory verbs read from this machine and the command line, each when the verb needs it. */
export function adminContext(client: Client, flags: LdapFlags, env: NodeJS.ProcessEnv = process.env): AdminContext {
  return {
    roots: () => client.roots(),
    target: () => ldapTarget(flags, client, env),
    authority: () => {
      const url = flags.authority ?? env.VOLACT_AUTHORITY_URL ?? client.state().authorityUrl;
      if (!url) throw new VolactError('NO_AUTHORITY');
      return url;
    },
    offlineBundle: () => client.offlineBundle(),
  };
}
