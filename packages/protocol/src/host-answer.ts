import type { Root } from './chain.js';
import { defaults, thresholdFor } from './defaults.js';
import {
  countInsufficientSchema,
  docTypes,
  grantSchema,
  readPayload,
  readableVersions,
  refusalSchema,
  type CountInsufficient,
  type Grant,
  type Refusal,
} from './documents.js';
import { VolactError } from './errors.js';
import { editionCovered } from './edition-cover.js';
import { verifyHostCert, type VerifiedCert } from './host-cert.js';
import { parseJws, verifyJws } from './jws.js';

/**
 * The answer a host sends a client: the signed answer plus the chain up to the root, and for an
 * edition a newer catalog added to the certificate's group, that catalog (editionCovered).
 */
export type HostAnswerBundle = {
  answer: string;
  certificate: string;
  issuer: string;
  catalog?: string;
  catalogIssuer?: string;
};

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
 * that the answer is for this machine, this request, an edition the host is certified for (its
 * certificate lists it, or the catalog sent with the answer puts it in the certificate's group),
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
  const catalog =
    bundle.catalog !== undefined && bundle.catalogIssuer !== undefined
      ? { catalog: bundle.catalog, issuer: bundle.catalogIssuer }
      : undefined;
  const certified = (edition: number) => {
    const covered = editionCovered(edition, chain.cert, catalog, roots);
    if (!covered) throw new VolactError('ANSWER_EDITION_NOT_CERTIFIED', { edition });
    return covered;
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
      const editionKind = certified(grant.edition).kind;
      skewCheck(grant.issuedAt);
      if (chain.cert.notAfter !== null && grant.validUntil > chain.cert.notAfter) {
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'grant outlives the host certificate' });
      }
      if (grant.validUntil <= grant.issuedAt)
        throw new VolactError('DOCUMENT_INVALID', { type: typ, detail: 'validUntil is not after issuedAt' });
      // A grant must keep the rules: granted at or above the edition's threshold, for at most 180 days.
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
