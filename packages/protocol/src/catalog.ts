import { verifyIssuer, type Root } from './chain.js';
import { catalogSchema, docTypes, readPayload, readableVersions, type Catalog } from './documents.js';
import { checkIssuerWindow, issuerKey } from './issuer-key.js';
import { verifyJws } from './jws.js';

/** Verifies the signed catalog (editions, product groups, setup keys) up to the pinned root. */
export function verifyCatalog(catalog: string, issuerJws: string, roots: readonly Root[]): Catalog {
  const issuer = verifyIssuer(issuerJws, roots, 'catalog');
  const parsed = verifyJws(catalog, {
    typ: docTypes.catalog,
    versions: readableVersions,
    kid: issuer.kid,
    key: issuerKey(issuer),
  });
  const doc = readPayload(docTypes.catalog, catalogSchema, parsed.payload);
  checkIssuerWindow(issuer, doc.issuedAt);
  return doc;
}
