import type { KeyObject } from 'node:crypto';
import { defaults, thresholdFor } from './defaults.js';
import {
  DOC_VERSION,
  catalogSchema,
  countInsufficientSchema,
  docTypes,
  grantSchema,
  hostCertSchema,
  issuerSchema,
  makGrantSchema,
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
import { kidFor, parseJws, publicKeyFromRaw, verifyJws } from './jws.js';

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
    throw new VolactError('CHAIN_UNTRUSTED_ROOT', { kid: typeof claimed?.kid === 'string' ? claimed.kid : '?', root: header.kid });
  }
  const parsed = verifyJws(jws, { typ: docTypes.issuer, versions: readableVersions, kid: root.kid, key: root.key });
  const issuer = readPayload(docTypes.issuer, issuerSchema, parsed.payload);
  if (issuer.root !== root.kid) throw new VolactError('DOCUMENT_INVALID', { type: docTypes.issuer, detail: 'names another root' });
  if (issuer.purpose !== purpose) throw new VolactError('ISSUER_WRONG_PURPOSE', { kid: issuer.kid, purpose: issuer.purpose, needed: purpose });
  return issuer;
}

/** An issuing key must have been valid when it signed (`signedAt`), not necessarily now. */
function checkIssuerWindow(issuer: IssuerCert, signedAt: number): void {
  if (signedAt < issuer.notBefore || signedAt > issuer.notAfter) {
    throw new VolactError('ISSUER_EXPIRED', { kid: issuer.kid, notBefore: new Date(issuer.notBefore).toISOString(), notAfter: new Date(issuer.notAfter).toISOString() });
  }
}

function issuerKey(issuer: IssuerCert): KeyObject {
  return publicKeyFromRaw(issuer.publicKey);
}

export type VerifiedCert = { cert: HostCert; issuer: IssuerCert; hostKey: KeyObject; hostKid: string };

/** Verifies a host certificate up to the pinned root; `now` checks the certificate's own expiry. */
export function verifyHostCert(certificate: string, issuerJws: string, roots: readonly Root[], now: number): VerifiedCert {
  const issuer = verifyIssuer(issuerJws, roots, 'host-cert');
  const parsed = verifyJws(certificate, { typ: docTypes.hostCert, versions: readableVersions, kid: issuer.kid, key: issuerKey(issuer) });
  const cert = readPayload(docTypes.hostCert, hostCertSchema, parsed.payload);
  checkIssuerWindow(issuer, cert.issuedAt);
  if (cert.notAfter !== null && now > cert.notAfter) {
    throw new VolactError('ISSUER_EXPIRED', { kid: `host ${cert.hostId}`, notBefore: new Date(cert.issuedAt).toISOString(), notAfter: new Date(cert.notAfter).toISOString() });
  }
  const hostKey = publicKeyFromRaw(cert.hostPublicKey);
  return { cert, issuer, hostKey, hostKid: kidFor('host', hostKey) };
}

export function verifyCatalog(catalog: string, issuerJws: string, roots: readonly Root[]): Catalog {
  const issuer = verifyIssuer(issuerJws, roots, 'catalog');
  const parsed = verifyJws(catalog, { typ: docTypes.catalog, versions: readableVersions, kid: issuer.kid, key: issuerKey(issuer) });
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
export function verifyHostAnswer(bundle: HostAnswerBundle, roots: readonly Root[], expect: AnswerExpectations): VerifiedAnswer {
  const chain = verifyHostCert(bundle.certificate, bundle.issuer, roots, expect.now);
  const { header } = parseJws(bundle.answer);
  // own properties only: a typ such as "constructor" or "__proto__" is an unknown type, not an answer kind
  const kind = Object.hasOwn(answerKinds, header.typ)
    ? (answerKinds as Record<string, (typeof answerKinds)[keyof typeof answerKinds]>)[header.typ]
    : undefined;
  const typ = kind ? header.typ : docTypes.grant;
  const parsed = verifyJws(bundle.answer, { typ, versions: readableVersions, kid: chain.hostKid, key: chain.hostKey });
  const common = (a: { machineId: string; nonce: string; hostId: string; issuedAt: number }) => {
    if (a.machineId !== expect.machineId) throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: a.machineId, ours: expect.machineId });
    if (a.nonce !== expect.nonce) throw new VolactError('ANSWER_REPLAYED');
    if (a.hostId !== chain.cert.hostId) throw new VolactError('HOST_CERT_MISMATCH', { detail: `answer names host ${a.hostId}` });
  };
  const skewCheck = (issuedAt: number) => {
    const skew = Math.abs(issuedAt - expect.now);
    if (skew > defaults.maxClockSkewMs) throw new VolactError('CLOCK_SKEW', { minutes: Math.round(skew / 60_000) });
  };
  const certified = (edition: number) => {
    if (!chain.cert.editions.some((e) => e.number === edition)) throw new VolactError('ANSWER_EDITION_NOT_CERTIFIED', { edition });
  };
  switch (kind) {
    case 'grant': {
      const grant = readPayload(typ, grantSchema, parsed.payload);
      common(grant);
      if (grant.fingerprintHash !== expect.fingerprintHash) throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: `${grant.machineId} (other hardware)`, ours: expect.machineId });
      certified(grant.edition);
      skewCheck(grant.issuedAt);
      if (chain.cert.notAfter !== null && grant.validUntil > chain.cert.notAfter) {
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'grant outlives the host certificate' });
      }
      if (grant.validUntil <= grant.issuedAt) throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'validUntil is not after issuedAt' });
      // A grant must keep the rules: granted at or above the edition's threshold, for at most 180 days.
      const editionKind = chain.cert.editions.find((e) => e.number === grant.edition)!.kind;
      if (grant.required < thresholdFor(editionKind) || grant.count < grant.required) {
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: `granted at count ${grant.count} of ${grant.required}; a ${editionKind} edition needs ${thresholdFor(editionKind)}` });
      }
      if (grant.validUntil - grant.issuedAt > defaults.validityMs) throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'valid for longer than 180 days' });
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
export function verifyMakGrant(grantJws: string, issuerJws: string, roots: readonly Root[], expect: { machineId: string; nonce: string; now: number }): MakGrant {
  const issuer = verifyIssuer(issuerJws, roots, 'mak-grant');
  const parsed = verifyJws(grantJws, { typ: docTypes.makGrant, versions: readableVersions, kid: issuer.kid, key: issuerKey(issuer) });
  const grant = readPayload(docTypes.makGrant, makGrantSchema, parsed.payload);
  checkIssuerWindow(issuer, grant.issuedAt);
  if (grant.machineId !== expect.machineId) throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: grant.machineId, ours: expect.machineId });
  if (grant.nonce !== expect.nonce) throw new VolactError('ANSWER_REPLAYED');
  const skew = Math.abs(grant.issuedAt - expect.now);
  if (skew > defaults.maxClockSkewMs) throw new VolactError('CLOCK_SKEW', { minutes: Math.round(skew / 60_000) });
  return grant;
}

export { DOC_VERSION };
