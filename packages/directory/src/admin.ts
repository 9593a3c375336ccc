import { createHash } from 'node:crypto';
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
  type OfflineBundle,
  type Root,
  type VerifiedDirectoryObject,
} from '@volact/protocol';
import { callAuthority } from '@volact/io';
import { connectDirectory, type DirectorySession, type DirectoryTarget } from './ldap.js';
import {
  addObject,
  checkObjectName,
  containerDn,
  deleteObject,
  ensureContainers,
  listObjects,
  objectExists,
  readDirectoryId,
  requireSchema,
  requireWritable,
} from './objects.js';

/**
 * What the administrator's verbs need, each read only when the verb gets to it (so a bad key is
 * reported before a missing root, and a missing root before an unreachable directory).
 */
export type AdminContext = {
  /** The publisher roots every object must verify against. */
  roots(): Root[];
  /** The directory to write to or read from. */
  target(): DirectoryTarget;
  /** The authority's URL, for online activation; throws NO_AUTHORITY when there is none. */
  authority(): string;
  /** The installed offline bundle, for a confirmation ID. */
  offlineBundle(): OfflineBundle;
};

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

export type CreatedObject = {
  name: string;
  dn: string;
  directoryId: string;
  suffix: string;
  server: string;
  group: string;
  editions: string[];
  offline: boolean;
  activationsUsed?: number;
  activationsLimit?: number;
};

/** Everything checked before an activation is spent: schema, a writable server, containers, a free name. */
async function prepare(s: DirectorySession, target: DirectoryTarget, name: string) {
  await requireSchema(s);
  await requireWritable(s, target.base);
  await ensureContainers(s, target.base, target.bindDn);
  const identity = await readDirectoryId(s, target.base);
  if (await objectExists(s, target.base, name)) throw new VolactError('DIRECTORY_OBJECT_EXISTS', { name });
  return identity;
}

function created(
  s: DirectorySession,
  dn: string,
  target: DirectoryTarget,
  v: VerifiedDirectoryObject,
  usage?: { activationsUsed: number; activationsLimit: number },
): CreatedObject {
  return {
    name: v.name,
    dn,
    directoryId: v.directoryId,
    suffix: target.base,
    server: s.url,
    group: v.group,
    editions: v.editions.map((e) => e.code),
    offline: v.offline,
    ...(usage ?? {}),
  };
}

/**
 * Activates a host key with the authority for this directory (one of its activations) and
 * writes the signed object, after checking it verifies to the pinned root and names this
 * directory. A rerun with the same key and name spends nothing.
 */
export async function activateOnline(
  ctx: AdminContext,
  typedKey: string,
  nameArg: string | undefined,
): Promise<CreatedObject> {
  const key = hostKey(typedKey);
  const name = checkObjectName(nameArg ?? `volact ${partialKey(key.canonical)}`);
  const roots = ctx.roots();
  const authority = ctx.authority();
  const target = ctx.target();
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
      requestId: createHash('sha256')
        .update(`volact-ao/${identity.directoryId}/${name.toLowerCase()}/${key.canonical}`)
        .digest('base64url'),
    };
    const answer = await callAuthority(authority, '/v1/directory-activations', body, directoryActivationAnswerSchema);
    const value = encodeDirectoryValue({ v: 1, object: answer.object, issuer: answer.issuer });
    const verified = verifyDirectoryObject(value, roots, { directoryId: identity.directoryId, name });
    // a rerun in another case gets the object signed the first time: it is written under that name
    if (verified.name.toLowerCase() !== name.toLowerCase())
      throw new VolactError('DIRECTORY_OBJECT_INVALID', {
        name,
        detail: `the authority signed the name ${verified.name}`,
      });
    const dn = await addObject(s, target.base, {
      name: verified.name,
      value,
      keyId: verified.hostKeyId,
      description: `volact activation object for ${verified.group} (activation ${verified.activation} of ${verified.hostKeyId})`,
    });
    return created(s, dn, target, verified, answer);
  });
}

/** The installation ID of this directory and host key, for activation by phone. */
export async function installationIdFor(
  ctx: AdminContext,
  typedKey: string,
): Promise<{ installationId: string; directoryId: string; suffix: string }> {
  const key = hostKey(typedKey);
  const target = ctx.target();
  const identity = await withSession(target, (s) => readDirectoryId(s, target.base));
  const iid = makeInstallationId(key, { type: 'directory', directoryId: identity.directoryId });
  return { installationId: iid.text, directoryId: identity.directoryId, suffix: target.base };
}

/** Checks a confirmation ID against this directory's installation ID and the offline bundle, then writes the object. */
export async function applyConfirmation(
  ctx: AdminContext,
  typedKey: string,
  cidText: string,
  nameArg: string | undefined,
): Promise<CreatedObject> {
  const key = hostKey(typedKey);
  const name = checkObjectName(nameArg ?? `volact ${partialKey(key.canonical)}`);
  const roots = ctx.roots();
  const bundle = ctx.offlineBundle();
  const cid = parseConfirmation(cidText);
  const target = ctx.target();
  return withSession(target, async (s) => {
    const identity = await prepare(s, target, name);
    const iid = parseInstallationId(
      makeInstallationId(key, { type: 'directory', directoryId: identity.directoryId }).text,
    );
    verifyOfflineConfirmation(cid.text, iid, [bundle.offlineIssuer], roots);
    const value = encodeDirectoryValue({
      v: 1,
      issuer: bundle.offlineIssuer,
      offline: {
        iid: iid.publicForm.toString('base64url'),
        cid: cid.text,
        catalog: bundle.catalog,
        catalogIssuer: bundle.catalogIssuer,
        name,
        suffix: target.base.slice(0, 512),
        directoryKind: identity.kind,
      },
    });
    const verified = verifyDirectoryObject(value, roots, { directoryId: identity.directoryId, name });
    const dn = await addObject(s, target.base, {
      name,
      value,
      keyId: verified.hostKeyId,
      description: `volact activation object for ${verified.group} (offline confirmation)`,
    });
    return created(s, dn, target, verified);
  });
}

export type ListedObject = {
  name: string;
  dn: string;
  status: 'valid' | string;
  detail: string | null;
  group: string | null;
  editions: string[];
  offline: boolean | null;
  keyId: string | null;
  created: string | null;
};

/** The objects in the directory, each verified against the pinned root and this directory. */
export async function listActivationObjects(
  ctx: AdminContext,
): Promise<{ server: string; container: string; directoryId: string; objects: ListedObject[] }> {
  const roots = ctx.roots();
  const target = ctx.target();
  return withSession(target, async (s) => {
    await requireSchema(s);
    const identity = await readDirectoryId(s, target.base);
    const objects = (await listObjects(s, target.base)).map((o): ListedObject => {
      try {
        const v = verifyDirectoryObject(o.value, roots, { directoryId: identity.directoryId, name: o.name });
        return {
          name: o.name,
          dn: o.dn,
          status: 'valid',
          detail: null,
          group: v.group,
          editions: v.editions.map((e) => e.code),
          offline: v.offline,
          keyId: o.keyId,
          created: o.created,
        };
      } catch (err) {
        const e =
          err instanceof VolactError
            ? err
            : new VolactError('DIRECTORY_OBJECT_INVALID', { name: o.name, detail: String(err) });
        return {
          name: o.name,
          dn: o.dn,
          status: e.code,
          detail: e.message,
          group: null,
          editions: [],
          offline: null,
          keyId: o.keyId,
          created: o.created,
        };
      }
    });
    return { server: s.url, container: containerDn(target.base), directoryId: identity.directoryId, objects };
  });
}

/** Removes one object by name or DN (members lose it at their next read, within 7 days). */
export async function deleteActivationObject(ctx: AdminContext, nameOrDn: string): Promise<{ deleted: string }> {
  const target = ctx.target();
  const m = /^cn=([^,]+),/i.exec(nameOrDn);
  const name = m ? m[1]! : nameOrDn;
  if (m && nameOrDn.toLowerCase() !== `cn=${name},${containerDn(target.base)}`.toLowerCase()) {
    throw new VolactError('USAGE', {
      detail: `${nameOrDn} is not in the activation object container ${containerDn(target.base)}`,
    });
  }
  return withSession(target, async (s) => {
    await requireSchema(s);
    return { deleted: await deleteObject(s, target.base, name) };
  });
}

/** What a machine account sees when it binds: the server, the connection, the directory ID and the object names. */
export async function checkDirectory(
  target: DirectoryTarget,
): Promise<{ server: string; tls: boolean; address: string; directoryId: string; objects: string[] }> {
  return withSession(target, async (session) => ({
    server: session.url,
    tls: session.tls,
    address: session.address,
    directoryId: (await readDirectoryId(session, target.base)).directoryId,
    objects: (await listObjects(session, target.base)).map((x) => x.name),
  }));
}
