import {
  DOC_VERSION,
  VolactError,
  decodeKey,
  docTypes,
  keyTagValid,
  signDocument,
  type Catalog,
  type MakActivationAnswer,
  type MakActivationRequest,
  type MakGrant,
} from '@volact/protocol';
import type { MakRow } from '../store.js';
import { issuer, keyHash, type VerbContext } from './verb-context.js';

/**
 * MAK activation: permanent, bound to the machine's (hashed) hardware. The same machine within
 * tolerance, or a retry after a lost answer, is answered again without using an activation.
 */
export async function activateMak(ctx: VerbContext, req: MakActivationRequest): Promise<MakActivationAnswer> {
  const decoded = decodeKey(req.makKey);
  if (decoded.keyClass !== 'mak')
    throw new VolactError('KEY_WRONG_CLASS', { actual: decoded.keyClass, expected: 'mak' });
  if (!keyTagValid(ctx.keys.mintSecret, decoded)) throw new VolactError('KEY_UNKNOWN');
  const mak = await ctx.store.findMakByHash(keyHash(decoded.canonical));
  if (!mak) throw new VolactError('KEY_UNKNOWN');
  const edition = (await ctx.catalog()).catalog.editions.find((e) => e.number === mak.edition);
  if (!edition)
    throw new VolactError('AUTHORITY_NOT_READY', { detail: `edition ${mak.edition} is not in the catalog` });
  const now = ctx.clock.now();
  const outcome = await ctx.store.activateMak({ makId: mak.id, machineId: req.machineId, parts: req.parts, now });
  if (outcome.kind === 'limit') throw new VolactError('MAK_LIMIT', { used: outcome.used, limit: outcome.limit });
  return signMakGrant(ctx, mak, edition, req, outcome, now);
}

function signMakGrant(
  ctx: VerbContext,
  mak: MakRow,
  edition: Catalog['editions'][number],
  req: MakActivationRequest,
  outcome: { used: number; limit: number },
  now: number,
): MakActivationAnswer {
  const signer = issuer(ctx, 'mak-grant');
  const grant: MakGrant = {
    makId: mak.id,
    machineId: req.machineId,
    nonce: req.nonce,
    edition: edition.number,
    editionCode: edition.code,
    editionName: edition.name,
    parts: req.parts,
    issuedAt: now,
    activationsUsed: outcome.used,
    activationsLimit: outcome.limit,
  };
  return { grant: signDocument(signer.pair, docTypes.makGrant, DOC_VERSION, grant), issuer: signer.certificate };
}
