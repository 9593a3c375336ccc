import { randomBytes } from 'node:crypto';
import { VolactError, defaults, objectNameSchema, parseWith } from '@volact/protocol';
import { resultCode, type DirectorySession } from './ldap.js';

/**
 * Where activation objects live: a configuration container under the suffix, in the place
 * Active Directory keeps its own (CN=Activation Objects,CN=Microsoft SPP,CN=Services,CN=Configuration).
 */
export const CONTAINER_RDNS = ['cn=Services', 'cn=volact', 'cn=Activation Objects'] as const;
export const OBJECT_CLASS = 'volactActivationObject';

export function containerDn(base: string): string {
  return [...CONTAINER_RDNS].reverse().join(',') + ',' + base;
}

export function objectDn(base: string, name: string): string {
  return `cn=${name},${containerDn(base)}`;
}

/** Object names: 1 to 40 letters, digits, spaces and . _ - (no DN escaping needed). */
export function checkObjectName(name: string): string {
  return parseWith(
    objectNameSchema,
    name,
    (p) =>
      new VolactError('DIRECTORY_OBJECT_NAME', {
        name: JSON.stringify(String(name).slice(0, 60)),
        problem: name.length > 40 ? `it has ${name.length} characters; at most 40 are allowed` : p.problem,
      }),
  );
}

export type DirectoryIdentity = { directoryId: string; kind: 'openldap' | 'active-directory' };

/** A 16-byte GUID as Active Directory writes it (the first three fields little-endian). */
export function guidToString(b: Buffer): string {
  const h = (x: Buffer) => x.toString('hex');
  const le = (s: number, e: number) => h(Buffer.from(b.subarray(s, e)).reverse());
  return `${le(0, 4)}-${le(4, 6)}-${le(6, 8)}-${h(b.subarray(8, 10))}-${h(b.subarray(10, 16))}`;
}

/**
 * The directory's identity: an ID its server generated for the suffix entry (entryUUID on
 * OpenLDAP and other RFC 4530 servers, objectGUID on Active Directory). Replicas carry the same.
 */
export async function readDirectoryId(s: DirectorySession, base: string): Promise<DirectoryIdentity> {
  let entry;
  try {
    ({
      searchEntries: [entry],
    } = await s.client.search(base, {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['entryUUID', 'objectGUID'],
      explicitBufferAttributes: ['objectGUID'],
    }));
  } catch (err) {
    if (resultCode(err) === 32)
      throw new VolactError('USAGE', {
        detail: `the directory at ${s.url} has no entry ${base}; give its suffix with --ldap-base`,
      });
    throw ldapFailure(s, err, 'read the suffix entry');
  }
  const uuid = entry?.entryUUID;
  if (typeof uuid === 'string' && /^[0-9a-f-]{36}$/i.test(uuid))
    return { directoryId: uuid.toLowerCase(), kind: 'openldap' };
  const guid = entry?.objectGUID;
  if (Buffer.isBuffer(guid) && guid.length === 16) return { directoryId: guidToString(guid), kind: 'active-directory' };
  throw new VolactError('USAGE', {
    detail: `${base} at ${s.url} shows no entryUUID or objectGUID; give the directory's suffix with --ldap-base, and let members read the suffix entry`,
  });
}

/** True when the server's schema has volact's object class. */
export async function schemaPresent(s: DirectorySession): Promise<boolean> {
  try {
    const root = await s.client.search('', {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['subschemaSubentry'],
    });
    const subschema = String(root.searchEntries[0]?.subschemaSubentry ?? 'cn=Subschema');
    const { searchEntries } = await s.client.search(subschema, {
      scope: 'base',
      filter: '(objectClass=subschema)',
      attributes: ['objectClasses'],
    });
    const classes = ([] as unknown[]).concat(searchEntries[0]?.objectClasses ?? []).map(String);
    return classes.some((c) => c.includes(`'${OBJECT_CLASS}'`));
  } catch (err) {
    throw ldapFailure(s, err, 'read the schema');
  }
}

export async function requireSchema(s: DirectorySession): Promise<void> {
  if (!(await schemaPresent(s))) throw new VolactError('DIRECTORY_SCHEMA_MISSING', { url: s.url });
}

export type StoredObject = { dn: string; name: string; value: string; keyId: string | null; created: string | null };

/** The activation objects the bound account can read, all of them (none when the container is hidden or missing). */
export async function listObjects(s: DirectorySession, base: string): Promise<StoredObject[]> {
  try {
    const { searchEntries } = await s.client.search(containerDn(base), {
      scope: 'one',
      filter: `(objectClass=${OBJECT_CLASS})`,
      attributes: ['cn', 'volactSignedObject', 'volactKeyId', 'createTimestamp'],
      // pages of 100 (the simple paged results control), so no server size limit cuts the list short
      paged: { pageSize: defaults.directoryObjectsPerPage },
    });
    return searchEntries
      .map((e) => ({
        dn: e.dn,
        name: String(Array.isArray(e.cn) ? e.cn[0] : e.cn),
        value: String(e.volactSignedObject ?? ''),
        keyId: e.volactKeyId === undefined ? null : String(e.volactKeyId),
        created: e.createTimestamp === undefined ? null : String(e.createTimestamp),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  } catch (err) {
    // an ACL that hides the container answers "no such object"
    if (resultCode(err) === 32) return [];
    throw ldapFailure(s, err, 'read the activation objects');
  }
}

/**
 * Whether this server takes writes, found before anything is spent: deleting an entry that does
 * not exist is answered "no such object" by a writable server and with a referral to the
 * writable server by a read-only replica (an OpenLDAP consumer, an AD read-only DC).
 */
export async function requireWritable(s: DirectorySession, base: string): Promise<void> {
  try {
    await s.client.del(`cn=volact-write-probe-${randomBytes(6).toString('hex')},${containerDn(base)}`);
  } catch (err) {
    if (resultCode(err) === 32) return;
    throw ldapFailure(s, err, 'write activation objects');
  }
}

/** Creates the containers that are missing (the bound account may lack the right: then the fix says how). */
export async function ensureContainers(s: DirectorySession, base: string, bindDn: string): Promise<void> {
  let dn = base;
  for (const rdn of CONTAINER_RDNS) {
    dn = `${rdn},${dn}`;
    try {
      await s.client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['1.1'] });
      continue;
    } catch (err) {
      if (resultCode(err) !== 32) throw ldapFailure(s, err, 'read the containers');
    }
    try {
      await s.client.add(dn, { objectClass: 'volactContainer', cn: rdn.slice(3) });
    } catch (err) {
      const code = resultCode(err);
      if (code === 68) continue;
      if (code === 50 || code === 32)
        throw new VolactError('DIRECTORY_CONTAINER_MISSING', {
          dn: containerDn(base),
          bindDn,
          detail: `adding ${dn}: LDAP result ${code}`,
        });
      throw ldapFailure(s, err, 'create the containers');
    }
  }
}

/** Whether an object of this name exists (LDAP compares cn case-insensitively), visible or not in a listing. */
export async function objectExists(s: DirectorySession, base: string, name: string): Promise<boolean> {
  try {
    await s.client.search(objectDn(base, checkObjectName(name)), {
      scope: 'base',
      filter: '(objectClass=*)',
      attributes: ['1.1'],
    });
    return true;
  } catch (err) {
    if (resultCode(err) === 32) return false;
    throw ldapFailure(s, err, 'read the activation objects');
  }
}

export async function addObject(
  s: DirectorySession,
  base: string,
  o: { name: string; value: string; keyId: string; description: string },
): Promise<string> {
  const dn = objectDn(base, checkObjectName(o.name));
  try {
    await s.client.add(dn, {
      objectClass: OBJECT_CLASS,
      cn: o.name,
      volactSignedObject: o.value,
      volactKeyId: o.keyId,
      description: o.description.slice(0, 1024),
    });
    return dn;
  } catch (err) {
    if (resultCode(err) === 68) throw new VolactError('DIRECTORY_OBJECT_EXISTS', { name: o.name });
    throw ldapFailure(s, err, 'create activation objects');
  }
}

export async function deleteObject(s: DirectorySession, base: string, name: string): Promise<string> {
  const dn = objectDn(base, checkObjectName(name));
  try {
    await s.client.del(dn);
    return dn;
  } catch (err) {
    if (resultCode(err) === 32) throw new VolactError('DIRECTORY_OBJECT_UNKNOWN', { name });
    throw ldapFailure(s, err, 'delete activation objects');
  }
}

/** Maps an LDAP failure to the error table: referral (read-only), access, schema, transport. */
export function ldapFailure(s: DirectorySession, err: unknown, what: string): VolactError {
  if (err instanceof VolactError) return err;
  const code = resultCode(err);
  const message = (err instanceof Error ? err.message : String(err)).slice(0, 300);
  switch (code) {
    case 10:
      return new VolactError('DIRECTORY_READ_ONLY', {
        url: s.url,
        writable:
          serverOf(s.referrals()[0]) ??
          '(the server named none; ask the directory administrator which server is writable)',
      });
    case 50:
      return new VolactError('DIRECTORY_ACCESS_DENIED', { dn: s.bindDn, what });
    case 17:
    case 21:
    case 65:
      return new VolactError('DIRECTORY_SCHEMA_MISSING', { url: s.url });
    case undefined:
      return new VolactError('DIRECTORY_UNREACHABLE', { detail: `${s.url}: ${message}` });
    default:
      return new VolactError('DIRECTORY_UNREACHABLE', {
        detail: `${s.url} answered LDAP result ${code} when asked to ${what}${message ? `: ${message}` : ''}`,
      });
  }
}

/** The server part of a referral URL (ldap://host:port/dn?… → ldap://host:port). */
function serverOf(referral: string | undefined): string | undefined {
  if (!referral) return undefined;
  try {
    const u = new URL(referral);
    return `${u.protocol}//${u.host}`;
  } catch {
    return undefined;
  }
}
