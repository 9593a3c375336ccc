import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  VolactError,
  catalogAnswerSchema,
  offlineIssuer,
  parseOfflineBundle,
  publicKeyFromPem,
  rootFromKey,
  verifyCatalog,
} from '@volact/protocol';
import { getFromAuthority } from '@volact/io';
import { ensureDir, saveCatalog, writeOrFail } from './state.js';
import { readRoots, type ClientContext } from './store.js';

/**
 * Pins the publisher's root public key (what every answer must chain to); replacing one must be
 * asked for. An offline bundle pins its root and keeps the offline issuer and catalog, once
 * they verify against that root, for offline activation (-dti / -atp). `beforeWrite` runs once
 * everything checked and before root.pub is written (the authority setting).
 */
export function pinRoot(dir: string, pemOrBundle: string, replace: boolean, beforeWrite: () => void): string {
  const bundle = parseOfflineBundle(pemOrBundle);
  const pem = bundle ? bundle.root : pemOrBundle;
  const root = rootFromKey(publicKeyFromPem(pem));
  const path = join(dir, 'root.pub');
  if (!replace && existsSync(path) && readRoots(dir)[0]!.kid !== root.kid)
    throw new VolactError('ROOT_MISMATCH', { path });
  if (bundle) {
    offlineIssuer(bundle.offlineIssuer, [root]);
    verifyCatalog(bundle.catalog, bundle.catalogIssuer, [root]);
  }
  beforeWrite();
  ensureDir(dir);
  writeOrFail(dir, path, pem, 0o644);
  if (bundle) writeOrFail(dir, join(dir, 'offline.json'), JSON.stringify(bundle, null, 2) + '\n', 0o644);
  return root.kid;
}

/**
 * Fetches the publisher's signed catalog from the authority (GET /v1/catalog) and keeps it
 * (catalog.json) once it verifies against the pinned root, so -dlv names the installed
 * edition before any activation. Returns the catalog's serial.
 */
export async function fetchCatalog(ctx: ClientContext, authority: string): Promise<number> {
  const answer = await getFromAuthority(authority, '/v1/catalog', catalogAnswerSchema, ctx.getAuthority);
  const catalog = verifyCatalog(answer.catalog, answer.issuer, readRoots(ctx.dir));
  saveCatalog(ctx.dir, { v: 1, catalog: answer.catalog, issuer: answer.issuer, authority });
  return catalog.serial;
}
