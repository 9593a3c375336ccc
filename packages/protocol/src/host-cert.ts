import type { KeyObject } from 'node:crypto';
import { verifyCatalog } from './catalog.js';
import { verifyIssuer, type Root } from './chain.js';
import {
  docTypes,
  hostCertSchema,
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
