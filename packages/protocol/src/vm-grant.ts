import type { Root } from './chain.js';
import { defaults } from './defaults.js';
import { docTypes, readPayload, readableVersions, vmGrantSchema, type VmGrant } from './documents.js';
import { editionCovered, type SignedCatalog } from './edition-cover.js';
import { VolactError } from './errors.js';
import { hypervisorCertKind, verifyHostCert, type VerifiedCert } from './host-cert.js';
import { verifyJws } from './jws.js';

/**
 * What a hypervisor agent answers a guest: its grant, its certificate and the certificate's
 * issuer; for a guest edition a newer catalog added to the certificate's group, that catalog.
 */
export type VmAnswerBundle = {
  grant: string;
  certificate: string;
  issuer: string;
  catalog?: string;
  catalogIssuer?: string;
};

export type VmGrantExpectations = {
  machineId: string;
  vmUuid: string;
  fingerprintHash: string;
  /** The request's nonce; omitted when a stored grant is read again. */
  nonce?: string;
  now: number;
  /** The catalog sent with the grant and the roots it must verify to (editionCovered). */
  catalog?: { signed: SignedCatalog; roots: readonly Root[] };
};

/**
 * Verifies a hypervisor agent's certificate up to the pinned root: the `hypervisor` issuing key,
 * a datacenter key's activation, the guest editions it may activate.
 */
export function verifyHypervisorCert(
  certificate: string,
  issuerJws: string,
  roots: readonly Root[],
  now: number,
): VerifiedCert {
  return verifyHostCert(certificate, issuerJws, roots, now, hypervisorCertKind);
}

/**
 * Verifies a guest grant against an already verified hypervisor certificate: signed by the
 * agent's key the certificate binds, for this machine, VM and request, for an edition the
 * certificate covers, issued within the tolerated skew and valid for at most 7 days.
 */
export function verifyVmGrant(grantJws: string, chain: VerifiedCert, expect: VmGrantExpectations): VmGrant {
  const parsed = verifyJws(grantJws, {
    typ: docTypes.vmGrant,
    versions: readableVersions,
    kid: chain.hostKid,
    key: chain.hostKey,
  });
  const grant = readPayload(docTypes.vmGrant, vmGrantSchema, parsed.payload);
  if (grant.machineId !== expect.machineId)
    throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: grant.machineId, ours: expect.machineId });
  if (grant.vmUuid !== expect.vmUuid)
    throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: `VM ${grant.vmUuid}`, ours: `VM ${expect.vmUuid}` });
  if (grant.fingerprintHash !== expect.fingerprintHash)
    throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: 'another fingerprint', ours: expect.machineId });
  if (expect.nonce !== undefined && grant.nonce !== expect.nonce) throw new VolactError('ANSWER_REPLAYED');
  if (grant.hypervisorId !== chain.cert.hostId)
    throw new VolactError('HOST_CERT_MISMATCH', { detail: `grant names hypervisor ${grant.hypervisorId}` });
  const covered = expect.catalog
    ? editionCovered(grant.edition, chain.cert, expect.catalog.signed, expect.catalog.roots, hypervisorCertKind.covers)
    : editionCovered(grant.edition, chain.cert, undefined, []);
  if (!covered) throw new VolactError('ANSWER_EDITION_NOT_CERTIFIED', { edition: grant.edition });
  if (grant.validUntil <= grant.issuedAt || grant.validUntil - grant.issuedAt > defaults.vmValidityMs)
    throw new VolactError('DOCUMENT_INVALID', { type: docTypes.vmGrant, detail: 'validity is not within 7 days' });
  const skew = Math.abs(grant.issuedAt - expect.now);
  if (expect.nonce !== undefined && skew > defaults.maxClockSkewMs)
    throw new VolactError('CLOCK_SKEW', { minutes: Math.round(skew / 60_000) });
  return grant;
}
