import {
  DOC_VERSION,
  MAX_JWS_LENGTH,
  VolactError,
  docTypes,
  parseJws,
  signDocument,
  type Catalog,
} from '@volact/protocol';
import { buildCatalog } from '../catalog.js';
import { auditEntry, issuer, type Actor, type VerbContext } from './verb-context.js';

/** The latest catalog, signed by the current catalog issuer (re-signed after a rotation). */
export class SignedCatalog {
  private resigned: { serial: number; kid: string; jws: string } | undefined;

  constructor(private readonly ctx: Pick<VerbContext, 'keys' | 'store' | 'clock'>) {}

  async latest(): Promise<{ catalog: Catalog; jws: string; issuer: string }> {
    const latest = await this.ctx.store.latestCatalog();
    if (!latest) throw new VolactError('AUTHORITY_NOT_READY', { detail: 'no catalog imported' });
    const signer = issuer(this.ctx, 'catalog');
    if (parseJws(latest.jws).header.kid === signer.pair.kid) return { ...latest, issuer: signer.certificate };
    if (this.resigned?.serial !== latest.catalog.serial || this.resigned.kid !== signer.pair.kid) {
      // stamped now: hosts check that the issuing key was valid when it signed
      const body = { ...latest.catalog, issuedAt: this.ctx.clock.now() };
      this.resigned = {
        serial: latest.catalog.serial,
        kid: signer.pair.kid,
        jws: signDocument(signer.pair, docTypes.catalog, DOC_VERSION, body),
      };
    }
    return { catalog: latest.catalog, jws: this.resigned.jws, issuer: signer.certificate };
  }
}

export async function importCatalog(ctx: VerbContext, file: unknown, actor: Actor): Promise<Catalog> {
  const serial = ((await ctx.store.latestCatalog())?.catalog.serial ?? 0) + 1;
  const catalog = buildCatalog(file, ctx.keys.mintSecret, serial, ctx.clock.now());
  const jws = signDocument(issuer(ctx, 'catalog').pair, docTypes.catalog, DOC_VERSION, catalog);
  // hosts would refuse a larger document, so it is refused here, before anything is stored
  if (jws.length > MAX_JWS_LENGTH / 2)
    throw new VolactError('CATALOG_INVALID', {
      detail: `the signed catalog would be ${jws.length} bytes; at most ${MAX_JWS_LENGTH / 2} are allowed`,
    });
  await ctx.store.saveCatalog(
    catalog,
    jws,
    auditEntry(
      ctx,
      actor,
      'catalog.import',
      `catalog ${serial}`,
      `${catalog.editions.length} editions, ${catalog.groups.length} groups`,
    ),
  );
  return catalog;
}
