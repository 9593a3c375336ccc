import type { KeyObject } from 'node:crypto';
import { defaults, thresholdFor } from './defaults.js';
import {
  DOC_VERSION,
  catalogSchema,
  countInsufficientSchema,
  directoryObjectSchema,
  directoryIdSchema,
  objectNameSchema,
  type DirectoryObject,
  docTypes,
  grantSchema,
  hostCertSchema,
  issuerSchema,
  makGrantSchema,
  offlineBundleSchema,
  type OfflineBundle,
  readPayload,
  readableVersions,
  refusalSchema,
  type Catalog,
  type CountInsufficient,
  type Grant,
  type HostCert,
  type IssuerCert,
  type IssuerPurpose,
  type MakGrant,
  type Refusal,
} from './documents.js';
import { VolactError } from './errors.js';
import { kidFor, MAX_JWS_LENGTH, parseJws, publicKeyFromRaw, verifyJws } from './jws.js';
import {
  parseConfirmation,
  parsePublicForm,
  verifyConfirmation,
  type Confirmation,
  type InstallationId,
} from './offline-codes.js';
import { literal, optional, parseWith, obj, str } from './schema.js';

/** A pinned root: the publisher's root public key (and optionally the next one). */
export type Root = { kid: string; key: KeyObject };

export function rootFromKey(key: KeyObject): Root {
  return { kid: kidFor('root', key), key };
}

/** The answer a host sends a client: the signed answer plus the chain up to the root. */
export type HostAnswerBundle = { answer: string; certificate: string; issuer: string };

/** Verifies an issuing-key certificate against the pinned roots and the purpose it must have. */
export function verifyIssuer(jws: string, roots: readonly Root[], purpose: IssuerPurpose): IssuerCert {
  const { header, payload } = parseJws(jws);
  const root = roots.find((r) => r.kid === header.kid);
  if (!root) {
    const claimed = payload as { kid?: unknown };
    throw new VolactError('CHAIN_UNTRUSTED_ROOT', {
      kid: typeof claimed?.kid === 'string' ? claimed.kid : '?',
      root: header.kid,
    });
  }
  const parsed = verifyJws(jws, { typ: docTypes.issuer, versions: readableVersions, kid: root.kid, key: root.key });
  const issuer = readPayload(docTypes.issuer, issuerSchema, parsed.payload);
  if (issuer.root !== root.kid)
    throw new VolactError('DOCUMENT_INVALID', { type: docTypes.issuer, detail: 'names another root' });
  if (issuer.purpose !== purpose)
    throw new VolactError('ISSUER_WRONG_PURPOSE', { kid: issuer.kid, purpose: issuer.purpose, needed: purpose });
  return issuer;
}

/** An issuing key must have been valid when it signed (`signedAt`), not necessarily now. */
function checkIssuerWindow(issuer: IssuerCert, signedAt: number): void {
  if (signedAt < issuer.notBefore || signedAt > issuer.notAfter) {
    throw new VolactError('ISSUER_EXPIRED', {
      kid: issuer.kid,
      notBefore: new Date(issuer.notBefore).toISOString(),
      notAfter: new Date(issuer.notAfter).toISOString(),
    });
  }
}

function issuerKey(issuer: IssuerCert): KeyObject {
  return publicKeyFromRaw(issuer.publicKey);
}

export type VerifiedCert = { cert: HostCert; issuer: IssuerCert; hostKey: KeyObject; hostKid: string };

/** A host's ID is derived from its own public key: stable across keys and reactivations. */
export function hostIdFor(hostPublicKey: string): string {
  return 'H' + kidFor('h', publicKeyFromRaw(hostPublicKey)).slice(2, 14);
}

/** An offline issuing key, verified to a pinned root, in the form confirmation checks take. */
export function offlineIssuer(issuerJws: string, roots: readonly Root[]) {
  const cert = verifyIssuer(issuerJws, roots, 'offline');
  return {
    cert,
    jws: issuerJws,
    rawPublicKey: cert.publicKey,
    key: publicKeyFromRaw(cert.publicKey),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}

/** Verifies a typed confirmation for an IID against offline issuer certificates (JWS) chained to the roots. */
export function verifyOfflineConfirmation(
  cidText: string,
  iid: InstallationId,
  issuerJwss: readonly string[],
  roots: readonly Root[],
): { cid: Confirmation; issuer: ReturnType<typeof offlineIssuer> } {
  const cid = parseConfirmation(cidText);
  const issuers = issuerJwss.map((j) => offlineIssuer(j, roots));
  return { cid, issuer: verifyConfirmation(cid, iid, issuers) };
}

/**
 * An offline-activated host has no JWS certificate: it carries the public form of its
 * installation ID (no MAC), the typed confirmation and the signed catalog (which maps its key's
 * product group to editions) in one string, and the offline issuer's certificate in place of
 * the host-cert issuer.
 */
export const OFFLINE_CERT_PREFIX = 'volact-offline-cert.';
const offlineCertSchema = obj({
  iid: str({ min: 1, max: 120, pattern: /^[A-Za-z0-9_-]+$/ }),
  cid: str({ min: 1, max: 200 }),
  catalog: str({ min: 1, max: MAX_JWS_LENGTH / 2 }),
  catalogIssuer: str({ min: 1, max: 16 * 1024 }),
});

export function offlineHostCertificate(parts: {
  iid: string;
  cid: string;
  catalog: string;
  catalogIssuer: string;
}): string {
  return OFFLINE_CERT_PREFIX + Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function verifyOfflineHostCert(certificate: string, issuerJws: string, roots: readonly Root[]): VerifiedCert {
  const bad = (detail: string) => new VolactError('DOCUMENT_INVALID', { type: 'offline host certificate', detail });
  if (certificate.length > MAX_JWS_LENGTH) throw bad('too long');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(certificate.slice(OFFLINE_CERT_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    throw bad('not readable');
  }
  const parts = parseWith(offlineCertSchema, raw, (p) => bad(`${p.field} ${p.problem}`));
  const iid = parsePublicForm(parts.iid);
  if (iid.type !== 'host' || !iid.hostPublicKey) throw bad('not a host installation');
  const { cid, issuer } = verifyOfflineConfirmation(parts.cid, iid, [issuerJws], roots);
  const catalog = verifyCatalog(parts.catalog, parts.catalogIssuer, roots);
  const group = catalog.groups.find((g) => g.number === iid.key.ref);
  if (!group) throw bad(`the catalog has no product group ${iid.key.ref}`);
  const hostPublicKey = iid.hostPublicKey.toString('base64url');
  const cert: HostCert = {
    hostId: hostIdFor(hostPublicKey),
    hostKeyId: `offline-${iid.keyId.toString('hex')}`,
    hostPublicKey,
    hostName: 'offline',
    group: group.code,
    editions: catalog.editions
      .filter((e) => group.editions.includes(e.number))
      .map(({ number, code, name, kind }) => ({ number, code, name, kind })),
    issuedAt: cid.issuedAt,
    notAfter: null,
    activation: 1,
  };
  const hostKey = publicKeyFromRaw(hostPublicKey);
  return { cert, issuer: issuer.cert, hostKey, hostKid: kidFor('host', hostKey) };
}

/** Verifies a host certificate up to the pinned root; `now` checks the certificate's own expiry. */
export function verifyHostCert(
  certificate: string,
  issuerJws: string,
  roots: readonly Root[],
  now: number,
): VerifiedCert {
  if (typeof certificate === 'string' && certificate.startsWith(OFFLINE_CERT_PREFIX))
    return verifyOfflineHostCert(certificate, issuerJws, roots);
  const issuer = verifyIssuer(issuerJws, roots, 'host-cert');
  const parsed = verifyJws(certificate, {
    typ: docTypes.hostCert,
    versions: readableVersions,
    kid: issuer.kid,
    key: issuerKey(issuer),
  });
  const cert = readPayload(docTypes.hostCert, hostCertSchema, parsed.payload);
  checkIssuerWindow(issuer, cert.issuedAt);
  if (cert.notAfter !== null && now > cert.notAfter) {
    throw new VolactError('ISSUER_EXPIRED', {
      kid: `host ${cert.hostId}`,
      notBefore: new Date(cert.issuedAt).toISOString(),
      notAfter: new Date(cert.notAfter).toISOString(),
    });
  }
  const hostKey = publicKeyFromRaw(cert.hostPublicKey);
  return { cert, issuer, hostKey, hostKid: kidFor('host', hostKey) };
}

export function verifyCatalog(catalog: string, issuerJws: string, roots: readonly Root[]): Catalog {
  const issuer = verifyIssuer(issuerJws, roots, 'catalog');
  const parsed = verifyJws(catalog, {
    typ: docTypes.catalog,
    versions: readableVersions,
    kid: issuer.kid,
    key: issuerKey(issuer),
  });
  const doc = readPayload(docTypes.catalog, catalogSchema, parsed.payload);
  checkIssuerWindow(issuer, doc.issuedAt);
  return doc;
}

export type VerifiedAnswer =
  | { kind: 'grant'; grant: Grant; chain: VerifiedCert }
  | { kind: 'countInsufficient'; answer: CountInsufficient; chain: VerifiedCert }
  | { kind: 'refusal'; answer: Refusal; chain: VerifiedCert };

export type AnswerExpectations = { machineId: string; nonce: string; fingerprintHash: string; now: number };

const answerKinds = {
  [docTypes.grant]: 'grant',
  [docTypes.countInsufficient]: 'countInsufficient',
  [docTypes.refusal]: 'refusal',
} as const;

/**
 * Verifies a host's answer completely: the chain to a pinned root, the host's signature, and
 * that the answer is for this machine, this request, an edition the host is certified for,
 * and signed at a time within the tolerated skew.
 */
export function verifyHostAnswer(
  bundle: HostAnswerBundle,
  roots: readonly Root[],
  expect: AnswerExpectations,
): VerifiedAnswer {
  const chain = verifyHostCert(bundle.certificate, bundle.issuer, roots, expect.now);
  const { header } = parseJws(bundle.answer);
  // own properties only: a typ such as "constructor" or "__proto__" is an unknown type, not an answer kind
  const kind = Object.hasOwn(answerKinds, header.typ)
    ? (answerKinds as Record<string, (typeof answerKinds)[keyof typeof answerKinds]>)[header.typ]
    : undefined;
  const typ = kind ? header.typ : docTypes.grant;
  const parsed = verifyJws(bundle.answer, { typ, versions: readableVersions, kid: chain.hostKid, key: chain.hostKey });
  const common = (a: { machineId: string; nonce: string; hostId: string; issuedAt: number }) => {
    if (a.machineId !== expect.machineId)
      throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: a.machineId, ours: expect.machineId });
    if (a.nonce !== expect.nonce) throw new VolactError('ANSWER_REPLAYED');
    if (a.hostId !== chain.cert.hostId)
      throw new VolactError('HOST_CERT_MISMATCH', { detail: `answer names host ${a.hostId}` });
  };
  const skewCheck = (issuedAt: number) => {
    const skew = Math.abs(issuedAt - expect.now);
    if (skew > defaults.maxClockSkewMs) throw new VolactError('CLOCK_SKEW', { minutes: Math.round(skew / 60_000) });
  };
  const certified = (edition: number) => {
    if (!chain.cert.editions.some((e) => e.number === edition))
      throw new VolactError('ANSWER_EDITION_NOT_CERTIFIED', { edition });
  };
  switch (kind) {
    case 'grant': {
      const grant = readPayload(typ, grantSchema, parsed.payload);
      common(grant);
      if (grant.fingerprintHash !== expect.fingerprintHash)
        throw new VolactError('ANSWER_MACHINE_MISMATCH', {
          theirs: `${grant.machineId} (other hardware)`,
          ours: expect.machineId,
        });
      certified(grant.edition);
      skewCheck(grant.issuedAt);
      if (chain.cert.notAfter !== null && grant.validUntil > chain.cert.notAfter) {
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'grant outlives the host certificate' });
      }
      if (grant.validUntil <= grant.issuedAt)
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'validUntil is not after issuedAt' });
      // A grant must keep the rules: granted at or above the edition's threshold, for at most 180 days.
      const editionKind = chain.cert.editions.find((e) => e.number === grant.edition)!.kind;
      if (grant.required < thresholdFor(editionKind) || grant.count < grant.required) {
        throw new VolactError('DOCUMENT_INVALID', {
          type: typ,
          detail: `granted at count ${grant.count} of ${grant.required}; a ${editionKind} edition needs ${thresholdFor(editionKind)}`,
        });
      }
      if (grant.validUntil - grant.issuedAt > defaults.validityMs)
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'valid for longer than 180 days' });
      return { kind, grant, chain };
    }
    case 'countInsufficient': {
      const answer = readPayload(typ, countInsufficientSchema, parsed.payload);
      common(answer);
      certified(answer.edition);
      skewCheck(answer.issuedAt);
      return { kind, answer, chain };
    }
    case 'refusal': {
      const answer = readPayload(typ, refusalSchema, parsed.payload);
      common(answer);
      return { kind, answer, chain };
    }
    default:
      // verifyJws has already thrown DOCUMENT_TYPE for any other type
      throw new VolactError('DOCUMENT_TYPE', { expected: docTypes.grant, actual: header.typ });
  }
}

/**
 * Verifies a MAK grant: signed by the authority's MAK issuing key (chained to a pinned root),
 * for this machine and this request, at a time within the tolerated skew of `now`.
 */
export function verifyMakGrant(
  grantJws: string,
  issuerJws: string,
  roots: readonly Root[],
  expect: { machineId: string; nonce: string; now: number },
): MakGrant {
  const issuer = verifyIssuer(issuerJws, roots, 'mak-grant');
  const parsed = verifyJws(grantJws, {
    typ: docTypes.makGrant,
    versions: readableVersions,
    kid: issuer.kid,
    key: issuerKey(issuer),
  });
  const grant = readPayload(docTypes.makGrant, makGrantSchema, parsed.payload);
  checkIssuerWindow(issuer, grant.issuedAt);
  if (grant.machineId !== expect.machineId)
    throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: grant.machineId, ours: expect.machineId });
  if (grant.nonce !== expect.nonce) throw new VolactError('ANSWER_REPLAYED');
  const skew = Math.abs(grant.issuedAt - expect.now);
  if (skew > defaults.maxClockSkewMs) throw new VolactError('CLOCK_SKEW', { minutes: Math.round(skew / 60_000) });
  return grant;
}

export { DOC_VERSION };

/** An offline bundle's text, or undefined when `text` is not one (a PEM). Malformed bundles are errors. */
export function parseOfflineBundle(text: string): OfflineBundle | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new VolactError('USAGE', {
      detail:
        'the trust file looks like JSON but is not valid JSON; give root.pub or the offline bundle as written by volact authority offline-bundle',
    });
  }
  return parseWith(
    offlineBundleSchema,
    raw,
    (p) => new VolactError('USAGE', { detail: `the offline bundle is invalid: ${p.field} ${p.problem}` }),
  );
}

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
