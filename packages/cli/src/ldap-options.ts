import { createHash } from 'node:crypto';
import { Option, type Command } from 'commander';
import { readUserFile } from './files.js';
import {
  VolactError,
  decodeKey,
  directoryActivationAnswerSchema,
  encodeDirectoryValue,
  makeInstallationId,
  parseConfirmation,
  parseInstallationId,
  partialKey,
  verifyDirectoryObject,
  verifyOfflineConfirmation,
  type DirectoryActivationRequest,
  type VerifiedDirectoryObject,
} from '@volact/protocol';
import { callAuthority } from '@volact/server-kit';
import type { Client } from '@volact/client';
import {
  addObject,
  checkObjectName,
  connectDirectory,
  containerDn,
  deleteObject,
  ensureContainers,
  listObjects,
  objectExists,
  readDirectoryId,
  requireSchema,
  requireWritable,
  type DirectorySession,
  type DirectoryTarget,
} from '@volact/directory';

/** LDAP connection flags of `volact slmgr` (each also from the environment, then from `client directory`). */
export type LdapFlags = { ldapUrl?: string; ldapBase?: string; bindDn?: string; passwordFile?: string; ldapCa?: string; allowPlainBind?: boolean; authority?: string };

/**
 * One spelling for the directory options of `slmgr` and `client directory` (issue 10):
 * --ldap-url, --ldap-base and --ldap-ca, as in VOLACT_LDAP_URL, _BASE and _CA, and never to be
 * mistaken for an authority's URL. --url, --base and --ca, the spelling `client directory` had
 * first, stay as hidden aliases.
 */
const aliases = { ldapUrl: ['--ldap-url', 'url'], ldapBase: ['--ldap-base', 'base'], ldapCa: ['--ldap-ca', 'ca'] } as const;

/** Adds --ldap-url URLS, --ldap-base DN and --ldap-ca FILE with these descriptions, and their hidden aliases. */
export function ldapOptions(command: Command, descriptions: Record<keyof typeof aliases, string>): Command {
  const values = { ldapUrl: 'urls', ldapBase: 'dn', ldapCa: 'file' } as const;
  for (const name of ['ldapUrl', 'ldapBase', 'ldapCa'] as const) {
    const [flag, alias] = aliases[name];
    command.option(`${flag} <${values[name]}>`, descriptions[name]).addOption(new Option(`--${alias} <${values[name]}>`, `same as ${flag}`).hideHelp());
  }
  return command;
}

/** The value of a directory option given in either spelling; two different values are USAGE. */
export function ldapValue(o: Record<string, unknown>, name: keyof typeof aliases): string | undefined {
  const [flag, alias] = aliases[name];
  const canonical = o[name] as string | undefined;
  const other = o[alias] as string | undefined;
  if (canonical !== undefined && other !== undefined && canonical !== other) throw new VolactError('USAGE', { detail: `${flag} and --${alias} are the same option; give it once` });
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
  const urls = urlText ? urlText.split(',').map((u) => u.trim()).filter(Boolean) : settings?.urls;
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
  return { urls, base, bindDn, password, allowPlainBind: Boolean(flags.allowPlainBind) || (own && settings.allowPlainBind), ...(ca ? { ca } : {}) };
}

/** Connects and binds, runs `fn`, and closes the connection whatever happens. */
export async function withSession<T>(target: DirectoryTarget, fn: (s: DirectorySession) => Promise<T>): Promise<T> {
  const session = await connectDirectory(target);
  try {
    return await fn(session);
  } finally {
    await session.close();
  }
}

function hostKey(typed: string) {
  const key = decodeKey(typed);
  if (key.keyClass !== 'host') throw new VolactError('KEY_WRONG_CLASS', { actual: key.keyClass, expected: 'host' });
  return key;
}

export type CreatedObject = { name: string; dn: string; directoryId: string; suffix: string; server: string; group: string; editions: string[]; offline: boolean; activationsUsed?: number; activationsLimit?: number };

/** Everything checked before an activation is spent: schema, a writable server, containers, a free name. */
async function prepare(s: DirectorySession, target: DirectoryTarget, name: string) {
  await requireSchema(s);
  await requireWritable(s, target.base);
  await ensureContainers(s, target.base, target.bindDn);
  const identity = await readDirectoryId(s, target.base);
  if (await objectExists(s, target.base, name)) throw new VolactError('DIRECTORY_OBJECT_EXISTS', { name });
  return identity;
}

function created(s: DirectorySession, dn: string, target: DirectoryTarget, v: VerifiedDirectoryObject, usage?: { activationsUsed: number; activationsLimit: number }): CreatedObject {
  return { name: v.name, dn, directoryId: v.directoryId, suffix: target.base, server: s.url, group: v.group, editions: v.editions.map((e) => e.code), offline: v.offline, ...(usage ?? {}) };
}

/**
 * `-ad-activation-online HOST-KEY [NAME]`: activates the host key with the authority for this
 * directory (one of its activations) and writes the signed object, after checking it verifies
 * to the pinned root and names this directory. A rerun with the same key and name spends nothing.
 */
export async function adActivationOnline(client: Client, flags: LdapFlags, typedKey: string, nameArg: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<CreatedObject> {
  const key = hostKey(typedKey);
  const name = checkObjectName(nameArg ?? `volact ${partialKey(key.canonical)}`);
  const roots = client.roots();
  const authority = flags.authority ?? env.VOLACT_AUTHORITY_URL ?? client.state().authorityUrl;
  if (!authority) throw new VolactError('NO_AUTHORITY');
  const target = ldapTarget(flags, client, env);
  return withSession(target, async (s) => {
    const identity = await prepare(s, target, name);
    const body: DirectoryActivationRequest = {
      v: 1,
      hostKey: key.canonical,
      directoryId: identity.directoryId,
      directoryKind: identity.kind,
      suffix: target.base.slice(0, 512),
      name,
      // names are case-insensitive in LDAP (cn): a retry with another case is the same request
      requestId: createHash('sha256').update(`volact-ao/${identity.directoryId}/${name.toLowerCase()}/${key.canonical}`).digest('base64url'),
    };
    const answer = await callAuthority(authority, '/v1/directory-activations', body, directoryActivationAnswerSchema);
    const value = encodeDirectoryValue({ v: 1, object: answer.object, issuer: answer.issuer });
    const verified = verifyDirectoryObject(value, roots, { directoryId: identity.directoryId, name });
    // a rerun in another case gets the object signed the first time: it is written under that name
    if (verified.name.toLowerCase() !== name.toLowerCase()) throw new VolactError('DIRECTORY_OBJECT_INVALID', { name, detail: `the authority signed the name ${verified.name}` });
    const dn = await addObject(s, target.base, { name: verified.name, value, keyId: verified.hostKeyId, description: `volact activation object for ${verified.group} (activation ${verified.activation} of ${verified.hostKeyId})` });
    return created(s, dn, target, verified, answer);
  });
}

/** `-ad-activation-get-iid HOST-KEY`: the installation ID of this directory and host key, for the phone. */
export async function adGetIid(client: Client, flags: LdapFlags, typedKey: string, env: NodeJS.ProcessEnv = process.env): Promise<{ installationId: string; directoryId: string; suffix: string }> {
  const key = hostKey(typedKey);
  const target = ldapTarget(flags, client, env);
  const identity = await withSession(target, (s) => readDirectoryId(s, target.base));
  const iid = makeInstallationId(key, { type: 'directory', directoryId: identity.directoryId });
  return { installationId: iid.text, directoryId: identity.directoryId, suffix: target.base };
}

/**
 * `-ad-activation-apply-cid HOST-KEY CONFIRMATION-ID [NAME]`: checks the confirmation against
 * this directory's installation ID and the offline bundle, then writes the object.
 */
export async function adApplyCid(client: Client, flags: LdapFlags, typedKey: string, cidText: string, nameArg: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<CreatedObject> {
  const key = hostKey(typedKey);
  const name = checkObjectName(nameArg ?? `volact ${partialKey(key.canonical)}`);
  const roots = client.roots();
  const bundle = client.offlineBundle();
  const cid = parseConfirmation(cidText);
  const target = ldapTarget(flags, client, env);
  return withSession(target, async (s) => {
    const identity = await prepare(s, target, name);
    const iid = parseInstallationId(makeInstallationId(key, { type: 'directory', directoryId: identity.directoryId }).text);
    verifyOfflineConfirmation(cid.text, iid, [bundle.offlineIssuer], roots);
    const value = encodeDirectoryValue({
      v: 1,
      issuer: bundle.offlineIssuer,
      offline: { iid: iid.publicForm.toString('base64url'), cid: cid.text, catalog: bundle.catalog, catalogIssuer: bundle.catalogIssuer, name, suffix: target.base.slice(0, 512), directoryKind: identity.kind },
    });
    const verified = verifyDirectoryObject(value, roots, { directoryId: identity.directoryId, name });
    const dn = await addObject(s, target.base, { name, value, keyId: verified.hostKeyId, description: `volact activation object for ${verified.group} (offline confirmation)` });
    return created(s, dn, target, verified);
  });
}

export type ListedObject = { name: string; dn: string; status: 'valid' | string; detail: string | null; group: string | null; editions: string[]; offline: boolean | null; keyId: string | null; created: string | null };

/** `-ao-list`: the objects in the directory, each verified against the pinned root and this directory. */
export async function aoList(client: Client, flags: LdapFlags, env: NodeJS.ProcessEnv = process.env): Promise<{ server: string; container: string; directoryId: string; objects: ListedObject[] }> {
  const roots = client.roots();
  const target = ldapTarget(flags, client, env);
  return withSession(target, async (s) => {
    await requireSchema(s);
    const identity = await readDirectoryId(s, target.base);
    const objects = (await listObjects(s, target.base)).map((o): ListedObject => {
      try {
        const v = verifyDirectoryObject(o.value, roots, { directoryId: identity.directoryId, name: o.name });
        return { name: o.name, dn: o.dn, status: 'valid', detail: null, group: v.group, editions: v.editions.map((e) => e.code), offline: v.offline, keyId: o.keyId, created: o.created };
      } catch (err) {
        const e = err instanceof VolactError ? err : new VolactError('DIRECTORY_OBJECT_INVALID', { name: o.name, detail: String(err) });
        return { name: o.name, dn: o.dn, status: e.code, detail: e.message, group: null, editions: [], offline: null, keyId: o.keyId, created: o.created };
      }
    });
    return { server: s.url, container: containerDn(target.base), directoryId: identity.directoryId, objects };
  });
}

/** `-del-ao NAME|DN`: removes one object (members lose it at their next read, within 7 days). */
export async function delAo(client: Client, flags: LdapFlags, nameOrDn: string, env: NodeJS.ProcessEnv = process.env): Promise<{ deleted: string }> {
  const target = ldapTarget(flags, client, env);
  const m = /^cn=([^,]+),/i.exec(nameOrDn);
  const name = m ? m[1]! : nameOrDn;
  if (m && nameOrDn.toLowerCase() !== `cn=${name},${containerDn(target.base)}`.toLowerCase()) {
    throw new VolactError('USAGE', { detail: `${nameOrDn} is not in the activation object container ${containerDn(target.base)}` });
  }
  return withSession(target, async (s) => {
    await requireSchema(s);
    return { deleted: await deleteObject(s, target.base, name) };
  });
}
