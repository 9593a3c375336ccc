import type { KeyObject } from 'node:crypto';
import {
  DOC_VERSION,
  docTypes,
  issuerSchema,
  readPayload,
  readableVersions,
  type IssuerCert,
  type IssuerPurpose,
} from './documents.js';
import { VolactError } from './errors.js';
import { kidFor, parseJws, verifyJws } from './jws.js';

// The top of every chain: the pinned roots and the issuing keys they certify. Each signed document's
// own checks live with it (catalog, host-cert, host-answer, mak-grant, directory-object,
// offline-confirmation).

/** A pinned root: the publisher's root public key (and optionally the next one). */
export type Root = { kid: string; key: KeyObject };

export function rootFromKey(key: KeyObject): Root {
  return { kid: kidFor('root', key), key };
}

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

export { DOC_VERSION };
