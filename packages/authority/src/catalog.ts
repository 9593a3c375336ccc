import { createHmac } from 'node:crypto';
import {
  VolactError,
  array,
  bool,
  int,
  literal,
  mintKey,
  obj,
  optional,
  parseWith,
  str,
  type Catalog,
  type Infer,
} from '@volact/protocol';

/**
 * The catalog file an operator imports: products, editions (client or server) and product
 * groups. Setup keys, and VM keys for editions marked `guest` (they may run as guests of a
 * hypervisor agent), are minted here, deterministically, so re-importing keeps them.
 */
const code = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._-]+$/ });
export const catalogFileSchema = obj({
  products: array(
    obj({
      code,
      name: str({ min: 1, max: 128 }),
      editions: array(
        obj({
          number: int({ min: 1, max: 0xffff }),
          code,
          name: str({ min: 1, max: 128 }),
          kind: literal('client', 'server'),
          guest: optional(bool),
        }),
        { min: 1, max: 256 },
      ),
    }),
    { min: 1, max: 256 },
  ),
  groups: array(
    obj({
      number: int({ min: 1, max: 0xffff }),
      code,
      name: str({ min: 1, max: 128 }),
      kind: literal('client', 'server'),
      editions: array(code, { min: 1, max: 1024 }),
      description: optional(str({ min: 0, max: 512 })),
    }),
    { min: 1, max: 1024 },
  ),
});
export type CatalogFile = Infer<typeof catalogFileSchema>;

/** A public key's serial, derived from the mint secret: the same edition gets the same key on every import. */
function derivedSerial(secret: Buffer, label: 'volact-setup' | 'volact-vm', edition: number): bigint {
  const mac = createHmac('sha256', secret).update(`${label}/${edition}`).digest();
  return BigInt('0x' + mac.subarray(0, 7).toString('hex'));
}

/** Checks the file and builds the catalog document body (unsigned). */
export function buildCatalog(file: unknown, mintSecret: Buffer, serial: number, now: number): Catalog {
  const src = parseWith(
    catalogFileSchema,
    file,
    (p) => new VolactError('CATALOG_INVALID', { detail: `${p.field} ${p.problem}` }),
  );
  const invalid = (detail: string) => new VolactError('CATALOG_INVALID', { detail });
  const editions: Catalog['editions'] = [];
  const byCode = new Map<string, Catalog['editions'][number]>();
  for (const product of src.products) {
    for (const e of product.editions) {
      if (byCode.has(e.code)) throw invalid(`edition code ${e.code} appears twice`);
      if (editions.some((x) => x.number === e.number)) throw invalid(`edition number ${e.number} appears twice`);
      const edition: Catalog['editions'][number] = {
        number: e.number,
        code: e.code,
        name: e.name,
        product: product.code,
        kind: e.kind,
        setupKey: mintKey(mintSecret, 'setup', e.number, derivedSerial(mintSecret, 'volact-setup', e.number)),
      };
      // a guest edition's public VM key (like an AVMA key): what a guest installs to activate through its hypervisor
      if (e.guest)
        edition.vmKey = mintKey(mintSecret, 'vm', e.number, derivedSerial(mintSecret, 'volact-vm', e.number));
      editions.push(edition);
      byCode.set(e.code, edition);
    }
  }
  const groups: Catalog['groups'] = [];
  for (const g of src.groups) {
    if (groups.some((x) => x.code === g.code || x.number === g.number))
      throw invalid(`group ${g.code} (number ${g.number}) appears twice`);
    const members = g.editions.map((c) => {
      const e = byCode.get(c);
      if (!e) throw invalid(`group ${g.code} names unknown edition ${c}`);
      // A client group activates only client editions; a server group both (as with KMS host keys).
      if (g.kind === 'client' && e.kind === 'server')
        throw invalid(`client group ${g.code} cannot activate server edition ${c}`);
      return e.number;
    });
    groups.push({ number: g.number, code: g.code, name: g.name, kind: g.kind, editions: members });
  }
  return {
    serial,
    issuedAt: now,
    products: src.products.map((p) => ({ code: p.code, name: p.name })),
    editions,
    groups,
  };
}

/** The sample catalog that ships for the demo and the tests. */
export function sampleCatalogPath(): string {
  return new URL('../sample-catalog.json', import.meta.url).pathname;
}
