import { verifyIssuer, type Root } from './chain.js';
import { defaults } from './defaults.js';
import { docTypes, makGrantSchema, readPayload, readableVersions, type MakGrant } from './documents.js';
import { VolactError } from './errors.js';
import { checkIssuerWindow, issuerKey } from './issuer-key.js';
import { verifyJws } from './jws.js';

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
