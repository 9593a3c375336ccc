import { verifyCatalog } from './catalog.js';
import { verifyIssuer, type Root } from './chain.js';
import {
  directoryIdSchema,
  directoryObjectSchema,
  docTypes,
  objectNameSchema,
  readPayload,
  readableVersions,
  type DirectoryObject,
} from './documents.js';
import { VolactError } from './errors.js';
import { checkIssuerWindow, issuerKey } from './issuer-key.js';
import { MAX_JWS_LENGTH, verifyJws } from './jws.js';
import { parsePublicForm } from './offline-codes.js';
import { verifyOfflineConfirmation } from './offline-confirmation.js';
import { literal, obj, optional, parseWith, str } from './schema.js';

/**
 * What a directory activation object's LDAP attribute (volactSignedObject) holds: a prefix and
 * base64url JSON, so the value is plain ASCII. Online objects carry the signed object and the
 * directory issuer's certificate; objects made offline carry the public form of the directory's
 * installation ID, the typed confirmation, the signed catalog and the offline issuer instead.
 */
export const DIRECTORY_VALUE_PREFIX = 'volact-ao1.';
const directoryEnvelopeSchema = obj({
  v: literal(1),
  issuer: str({ min: 1, max: 16 * 1024 }),
  object: optional(str({ min: 1, max: MAX_JWS_LENGTH })),
  offline: optional(
    obj({
      iid: str({ min: 1, max: 120, pattern: /^[A-Za-z0-9_-]+$/ }),
      cid: str({ min: 1, max: 200 }),
      catalog: str({ min: 1, max: MAX_JWS_LENGTH / 2 }),
      catalogIssuer: str({ min: 1, max: 16 * 1024 }),
      name: objectNameSchema,
      suffix: str({ min: 1, max: 512 }),
      directoryKind: literal('openldap', 'active-directory'),
    }),
  ),
});
export type DirectoryEnvelope = {
  v: 1;
  issuer: string;
  object?: string;
  offline?: {
    iid: string;
    cid: string;
    catalog: string;
    catalogIssuer: string;
    name: string;
    suffix: string;
    directoryKind: 'openldap' | 'active-directory';
  };
};

export function encodeDirectoryValue(envelope: DirectoryEnvelope): string {
  return DIRECTORY_VALUE_PREFIX + Buffer.from(JSON.stringify(envelope)).toString('base64url');
}

export type VerifiedDirectoryObject = DirectoryObject & { offline: boolean };

/**
 * Verifies a directory activation object up to the pinned root and checks that it belongs to
 * this directory: `directoryId` is the ID the directory server generated (read from the suffix
 * entry by the caller), so an object copied into another directory with the same suffix fails.
 */
export function verifyDirectoryObject(
  value: string,
  roots: readonly Root[],
  expect: { directoryId: string; name: string },
): VerifiedDirectoryObject {
  const bad = (detail: string) => new VolactError('DIRECTORY_OBJECT_INVALID', { name: expect.name, detail });
  if (typeof value !== 'string' || !value.startsWith(DIRECTORY_VALUE_PREFIX) || value.length > MAX_JWS_LENGTH * 2)
    throw bad('it is not a volact activation object');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(value.slice(DIRECTORY_VALUE_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad('it is not readable');
  }
  const env = parseWith(directoryEnvelopeSchema, raw, (p) => bad(`${p.field} ${p.problem}`));
  let doc: DirectoryObject;
  let offline = false;
  if (env.object !== undefined && env.offline === undefined) {
    const issuer = verifyIssuer(env.issuer, roots, 'directory');
    const parsed = verifyJws(env.object, {
      typ: docTypes.directoryObject,
      versions: readableVersions,
      kid: issuer.kid,
      key: issuerKey(issuer),
    });
    doc = readPayload(docTypes.directoryObject, directoryObjectSchema, parsed.payload);
    checkIssuerWindow(issuer, doc.issuedAt);
  } else if (env.offline !== undefined && env.object === undefined) {
    const o = env.offline;
    const iid = parsePublicForm(o.iid);
    if (iid.type !== 'directory' || !iid.directoryId) throw bad("its installation ID is not a directory's");
    const { cid } = verifyOfflineConfirmation(o.cid, iid, [env.issuer], roots);
    const catalog = verifyCatalog(o.catalog, o.catalogIssuer, roots);
    const group = catalog.groups.find((g) => g.number === iid.key.ref);
    if (!group) throw bad(`the catalog has no product group ${iid.key.ref}`);
    offline = true;
    doc = {
      objectId: `offline-${iid.keyId.toString('hex')}`,
      name: o.name,
      directoryId: iid.directoryId,
      directoryKind: o.directoryKind,
      suffix: o.suffix,
      hostKeyId: `offline-${iid.keyId.toString('hex')}`,
      group: group.code,
      editions: catalog.editions
        .filter((e) => group.editions.includes(e.number))
        .map(({ number, code, name, kind }) => ({ number, code, name, kind })),
      issuedAt: cid.issuedAt,
      activation: 1,
    };
  } else {
    throw bad('it must hold either a signed object or an offline confirmation');
  }
  const ours = parseWith(directoryIdSchema, expect.directoryId.toLowerCase(), () =>
    bad(`this directory's ID ${expect.directoryId} is not a UUID`),
  );
  if (doc.directoryId !== ours)
    throw new VolactError('DIRECTORY_OBJECT_FOREIGN', {
      name: expect.name,
      theirs: `${doc.suffix} ${doc.directoryId}`,
      ours,
    });
  return { ...doc, offline };
}
