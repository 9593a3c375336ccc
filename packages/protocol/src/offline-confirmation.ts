import { verifyIssuer, type Root } from './chain.js';
import { publicKeyFromRaw } from './jws.js';
import { parseConfirmation, verifyConfirmation, type Confirmation, type InstallationId } from './offline-codes.js';

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
