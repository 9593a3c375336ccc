import type { KeyObject } from 'node:crypto';
import { verifyCatalog } from './catalog.js';
import type { Catalog } from './documents.js';
import { verifyIssuer, type Root } from './chain.js';
import {
  docTypes,
  hostCertSchema,
  type IssuerPurpose,
  readPayload,
  readableVersions,
  type HostCert,
  type IssuerCert,
} from './documents.js';
import { VolactError } from './errors.js';
import { checkIssuerWindow, issuerKey } from './issuer-key.js';
import { kidFor, MAX_JWS_LENGTH, publicKeyFromRaw, verifyJws } from './jws.js';
import { parsePublicForm } from './offline-codes.js';
import { verifyOfflineConfirmation } from './offline-confirmation.js';
import { obj, parseWith, str } from './schema.js';

export type VerifiedCert = { cert: HostCert; issuer: IssuerCert; hostKey: KeyObject; hostKid: string };

/** A host's ID is derived from its own public key: stable across keys and reactivations. */
export function hostIdFor(hostPublicKey: string): string {
  return 'H' + kidFor('h', publicKeyFromRaw(hostPublicKey)).slice(2, 14);
}

/** A hypervisor agent's ID, derived from its own public key like a host's. */
export function hypervisorIdFor(publicKey: string): string {
  return 'V' + kidFor('h', publicKeyFromRaw(publicKey)).slice(2, 14);
}

/**
 * The two certificates the authority gives a machine that signs for others: a host's (host key,
 * `host-cert` issuer) and a hypervisor agent's (datacenter key, `hypervisor` issuer, guest editions
 * only). They share one shape and one check; the kind says which document, issuer and offline
 * installation type to expect.
 */
export type CertKind = {
  what: 'host' | 'hypervisor';
  typ: string;
  purpose: IssuerPurpose;
  keyClass: 'host' | 'datacenter';
  offlineType: 'host' | 'hypervisor';
  offlinePrefix: string;
  idFor: (publicKey: string) => string;
  /** The editions of a product group the certificate covers. */
  covers: (e: Catalog['editions'][number]) => boolean;
};

export const hostCertKind: CertKind = {
  what: 'host',
  typ: docTypes.hostCert,
  purpose: 'host-cert',
  keyClass: 'host',
  offlineType: 'host',
  offlinePrefix: 'volact-offline-cert.',
  idFor: hostIdFor,
  covers: () => true,
};

export const hypervisorCertKind: CertKind = {
  what: 'hypervisor',
  typ: docTypes.hypervisorCert,
  purpose: 'hypervisor',
  keyClass: 'datacenter',
  offlineType: 'hypervisor',
  offlinePrefix: 'volact-offline-hypervisor-cert.',
  idFor: hypervisorIdFor,
  covers: (e) => e.vmKey !== undefined,
};

/**
 * An offline-activated host has no JWS certificate: it carries the public form of its
 * installation ID (no MAC), the typed confirmation and the signed catalog (which maps its key's
 * product group to editions) in one string, and the offline issuer's certificate in place of
 * the host-cert issuer.
 */
export const OFFLINE_CERT_PREFIX = hostCertKind.offlinePrefix;
const offlineCertSchema = obj({
  iid: str({ min: 1, max: 120, pattern: /^[A-Za-z0-9_-]+$/ }),
  cid: str({ min: 1, max: 200 }),
  catalog: str({ min: 1, max: MAX_JWS_LENGTH / 2 }),
  catalogIssuer: str({ min: 1, max: 16 * 1024 }),
});

export function offlineHostCertificate(
  parts: {
    iid: string;
    cid: string;
    catalog: string;
    catalogIssuer: string;
  },
  kind: CertKind = hostCertKind,
): string {
  return kind.offlinePrefix + Buffer.from(JSON.stringify(parts)).toString('base64url');
}

function verifyOfflineHostCert(
  certificate: string,
  issuerJws: string,
  roots: readonly Root[],
  kind: CertKind,
): VerifiedCert {
  const bad = (detail: string) =>
    new VolactError('DOCUMENT_INVALID', { type: `offline ${kind.what} certificate`, detail });
  if (certificate.length > MAX_JWS_LENGTH) throw bad('too long');
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(certificate.slice(kind.offlinePrefix.length), 'base64url').toString('utf8'));
  } catch {
    throw bad('not readable');
  }
  const parts = parseWith(offlineCertSchema, raw, (p) => bad(`${p.field} ${p.problem}`));
  const iid = parsePublicForm(parts.iid);
  if (iid.type !== kind.offlineType || !iid.hostPublicKey) throw bad(`not a ${kind.what} installation`);
  const { cid, issuer } = verifyOfflineConfirmation(parts.cid, iid, [issuerJws], roots);
  const catalog = verifyCatalog(parts.catalog, parts.catalogIssuer, roots);
  const group = catalog.groups.find((g) => g.number === iid.key.ref);
  if (!group) throw bad(`the catalog has no product group ${iid.key.ref}`);
  const hostPublicKey = iid.hostPublicKey.toString('base64url');
  const cert: HostCert = {
    hostId: kind.idFor(hostPublicKey),
    hostKeyId: `offline-${iid.keyId.toString('hex')}`,
    hostPublicKey,
    hostName: 'offline',
    group: group.code,
    editions: catalog.editions
      .filter((e) => group.editions.includes(e.number) && kind.covers(e))
      .map((e) => ({ number: e.number, code: e.code, name: e.name, kind: e.kind })),
    issuedAt: cid.issuedAt,
    notAfter: null,
    activation: 1,
  };
  const hostKey = publicKeyFromRaw(hostPublicKey);
  return { cert, issuer: issuer.cert, hostKey, hostKid: kidFor('host', hostKey) };
}

/**
 * Verifies a host certificate (or, with `kind`, a hypervisor agent's) up to the pinned root;
 * `now` checks the certificate's own expiry.
 */
export function verifyHostCert(
  certificate: string,
  issuerJws: string,
  roots: readonly Root[],
  now: number,
  kind: CertKind = hostCertKind,
): VerifiedCert {
  if (typeof certificate === 'string' && certificate.startsWith(kind.offlinePrefix))
    return verifyOfflineHostCert(certificate, issuerJws, roots, kind);
  const issuer = verifyIssuer(issuerJws, roots, kind.purpose);
  const parsed = verifyJws(certificate, {
    typ: kind.typ,
    versions: readableVersions,
    kid: issuer.kid,
    key: issuerKey(issuer),
  });
  const cert = readPayload(kind.typ, hostCertSchema, parsed.payload);
  checkIssuerWindow(issuer, cert.issuedAt);
  if (cert.notAfter !== null && now > cert.notAfter) {
    throw new VolactError('ISSUER_EXPIRED', {
      kid: `${kind.what} ${cert.hostId}`,
      notBefore: new Date(cert.issuedAt).toISOString(),
      notAfter: new Date(cert.notAfter).toISOString(),
    });
  }
  const hostKey = publicKeyFromRaw(cert.hostPublicKey);
  return { cert, issuer, hostKey, hostKid: kidFor('host', hostKey) };
}
