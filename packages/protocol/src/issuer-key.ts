import type { KeyObject } from 'node:crypto';
import type { IssuerCert } from './documents.js';
import { VolactError } from './errors.js';
import { publicKeyFromRaw } from './jws.js';

// What every document check needs from its verified issuer. Not re-exported from index.ts, so the
// package's surface stays the whole-document checks.

/** An issuing key must have been valid when it signed (`signedAt`), not necessarily now. */
export function checkIssuerWindow(issuer: IssuerCert, signedAt: number): void {
  if (signedAt < issuer.notBefore || signedAt > issuer.notAfter) {
    throw new VolactError('ISSUER_EXPIRED', {
      kid: issuer.kid,
      notBefore: new Date(issuer.notBefore).toISOString(),
      notAfter: new Date(issuer.notAfter).toISOString(),
    });
  }
}

export function issuerKey(issuer: IssuerCert): KeyObject {
  return publicKeyFromRaw(issuer.publicKey);
}
