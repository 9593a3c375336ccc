import { verifyCatalog } from './catalog.js';
import type { Root } from './chain.js';
import type { CertEdition, Edition } from './documents.js';

/** A signed catalog and the certificate of the key that signed it, as a host sends it with an answer. */
export type SignedCatalog = { catalog: string; issuer: string };

/**
 * The one rule for what a certificate vouches for (a host's, a hypervisor agent's, a directory
 * activation object): it binds a product group, and the signed catalog says what the group
 * contains. An edition is covered when the certificate lists it, or when a catalog that verifies
 * against the pinned roots puts it in the certificate's group: a host that took a newer catalog
 * (slmgr -upd-catalog) activates the editions it added without spending an activation. `covers`
 * narrows what a catalog may add (a hypervisor agent's guest editions: those with a VM key).
 * Returns the covered edition (its kind sets the threshold), or undefined.
 */
export function editionCovered(
  edition: number,
  doc: { group: string; editions: readonly CertEdition[] },
  catalog: SignedCatalog | undefined,
  roots: readonly Root[],
  covers: (e: Edition) => boolean = () => true,
): CertEdition | undefined {
  const listed = doc.editions.find((e) => e.number === edition);
  if (listed || !catalog) return listed;
  const verified = verifyCatalog(catalog.catalog, catalog.issuer, roots);
  const group = verified.groups.find((g) => g.code === doc.group);
  if (!group?.editions.includes(edition)) return undefined;
  const e = verified.editions.find((x) => x.number === edition);
  return e && covers(e) ? { number: e.number, code: e.code, name: e.name, kind: e.kind } : undefined;
}
