/** Catalog: products, editions (with kind and setup key) and groups, as the authority signs them. */
import { api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { t, when } from '../common/i18n.js';
import { ErrorNote, Section, Table, useLoad } from '../common/ui.js';

type Edition = {
  number: number;
  code: string;
  name: string;
  product: string;
  kind: 'client' | 'server';
  setupKey: string;
};
type Group = { number: number; code: string; name: string; kind: 'client' | 'server'; editions: number[] };
type CatalogAnswer = {
  catalog: {
    serial?: number;
    issuedAt?: number;
    products: { code: string; name: string }[];
    editions: Edition[];
    groups: Group[];
  };
  signedAt?: number | string;
};

export function Catalog(_props: PageProps) {
  const answer = useLoad(() => api<CatalogAnswer>('/v1/admin/catalog'), []);
  const c = answer.data?.catalog;
  return (
    <>
      <h1>{t('console.page.catalog')}</h1>
      <ErrorNote error={answer.error} />
      {c && (
        <>
          <p>{t('console.cat.signed', { serial: c.serial ?? '', at: when(answer.data?.signedAt ?? c.issuedAt) })}</p>
          <Section title={t('console.cat.products')}>
            <Table
              caption={t('console.cat.products')}
              rows={c.products}
              columns={[
                { label: t('console.col.code'), cell: (p) => p.code },
                { label: t('console.col.name'), cell: (p) => p.name },
              ]}
            />
          </Section>
          <Section title={t('console.cat.editions')}>
            <Table
              caption={t('console.cat.editions')}
              rows={c.editions}
              testid="editions"
              columns={[
                { label: t('console.col.number'), cell: (e) => e.number, num: true },
                { label: t('console.col.code'), cell: (e) => e.code },
                { label: t('console.col.name'), cell: (e) => e.name },
                { label: t('console.col.product'), cell: (e) => e.product },
                { label: t('console.col.kind'), cell: (e) => t(`console.kind.${e.kind}`) },
                { label: t('console.col.setupKey'), cell: (e) => <span class="mono">{e.setupKey}</span> },
              ]}
            />
          </Section>
          <Section title={t('console.cat.groups')}>
            <Table
              caption={t('console.cat.groups')}
              rows={c.groups}
              columns={[
                { label: t('console.col.number'), cell: (g) => g.number, num: true },
                { label: t('console.col.code'), cell: (g) => g.code },
                { label: t('console.col.name'), cell: (g) => g.name },
                { label: t('console.col.kind'), cell: (g) => t(`console.kind.${g.kind}`) },
                { label: t('console.col.editions'), cell: (g) => g.editions.join(', ') },
              ]}
            />
          </Section>
        </>
      )}
    </>
  );
}
