/** Machines: search, filters and sort in a form; pages come from the server by cursor. */
import { useState } from 'preact/hooks';
import { api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { num, t, when, type MessageId } from '../common/i18n.js';
import { ErrorNote, Pager, Table, useCursorPages, useLoad } from '../common/ui.js';
import type { Machine, MachinePage } from './types.js';

export const stateIds: Record<string, MessageId> = {
  licensed: 'state.licensed',
  grace: 'console.ov.grace',
  initialGrace: 'state.initialGrace',
  ootGrace: 'state.ootGrace',
  notification: 'state.notification',
  unlicensed: 'state.unlicensed',
};

const outcomeIds: Record<string, MessageId> = {
  activated: 'console.outcome.activated',
  renewed: 'console.outcome.renewed',
  countInsufficient: 'console.outcome.countInsufficient',
  editionNotCovered: 'console.outcome.editionNotCovered',
  clockSkew: 'console.outcome.clockSkew',
  notActivated: 'console.outcome.notActivated',
};

/** An outcome in words; the value itself when the page does not know it. */
export function outcomeText(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return outcomeIds[s] ? t(outcomeIds[s]) : s;
}

/** A license state in words; the value itself when the page does not know it. */
export function stateText(value: unknown): string {
  const s = value === null || value === undefined ? '' : String(value);
  return stateIds[s] ? t(stateIds[s]) : s;
}

const PAGE = 50;
const sorts: [string, MessageId][] = [
  ['lastSeen', 'console.col.lastSeen'],
  ['firstSeen', 'console.col.firstSeen'],
  ['name', 'console.col.name'],
  ['requests', 'console.col.requests'],
];

function queryOf(form: HTMLFormElement): URLSearchParams {
  const q = new URLSearchParams();
  for (const [k, v] of new FormData(form)) if (typeof v === 'string' && v.trim() !== '') q.set(k, v.trim());
  return q;
}

function Filters({ onApply }: { onApply: (q: URLSearchParams) => void }) {
  const select = (name: string, label: string, options: [string, string][]) => (
    <label>
      {label}
      <select name={name} data-testid={`filter-${name}`}>
        {options.map(([v, l]) => (
          <option value={v}>{l}</option>
        ))}
      </select>
    </label>
  );
  return (
    <form
      class="filters card"
      role="search"
      aria-label={t('console.m.filters')}
      data-testid="machine-filters"
      onSubmit={(e) => {
        e.preventDefault();
        onApply(queryOf(e.currentTarget));
      }}
    >
      <label>
        {t('console.m.search')}
        <input type="search" name="q" data-testid="filter-q" />
      </label>
      {select('state', t('console.col.licenseState'), [
        ['', t('console.any')],
        ['licensed', t('state.licensed')],
        ['grace', t('console.ov.grace')],
        ['notification', t('state.notification')],
        ['unlicensed', t('state.unlicensed')],
      ])}
      <label>
        {t('console.col.edition')}
        <input type="number" name="edition" min="0" inputMode="numeric" data-testid="filter-edition" />
      </label>
      {select('kind', t('console.col.kind'), [
        ['', t('console.any')],
        ['client', t('console.kind.client')],
        ['server', t('console.kind.server')],
      ])}
      {select('vm', t('console.col.vm'), [
        ['', t('console.any')],
        ['true', t('console.m.vmOnly')],
        ['false', t('console.m.physicalOnly')],
      ])}
      <label>
        {t('console.m.seenWithin')}
        <input type="number" name="seenWithinDays" min="1" data-testid="filter-seen" />
      </label>
      <label>
        {t('console.m.notSeenFor')}
        <input type="number" name="notSeenForDays" min="1" data-testid="filter-not-seen" />
      </label>
      <label class="check">
        <input type="checkbox" name="fingerprints" value="several" data-testid="filter-several" />
        {t('console.m.several')}
      </label>
      {select(
        'sort',
        t('console.m.sort'),
        sorts.map(([v, id]) => [v, t(id)]),
      )}
      {select('order', t('console.m.order'), [
        ['desc', t('console.m.desc')],
        ['asc', t('console.m.asc')],
      ])}
      <button type="submit" data-testid="apply">
        {t('console.apply')}
      </button>
    </form>
  );
}

function machineColumns() {
  return [
    {
      label: t('console.col.machineId'),
      cell: (m: Machine) => (
        <>
          <span class="mono">{m.machineId}</span>
          {m.fingerprints > 1 && (
            <>
              {' '}
              <span class="flag" data-testid="several-fingerprints">
                {t('console.m.severalFlag')}
              </span>
            </>
          )}
        </>
      ),
    },
    { label: t('console.col.name'), cell: (m: Machine) => m.machineName ?? '' },
    {
      label: t('console.col.licenseState'),
      cell: (m: Machine) => stateText(m.licenseState),
    },
    { label: t('console.col.expiresAt'), cell: (m: Machine) => when(m.expiresAt) },
    {
      label: t('console.col.edition'),
      cell: (m: Machine) => m.editionName ?? (m.edition === null ? '' : String(m.edition)),
    },
    { label: t('console.col.kind'), cell: (m: Machine) => (m.kind ? t(`console.kind.${m.kind}`) : '') },
    { label: t('console.col.vm'), cell: (m: Machine) => t(m.vm ? 'console.yes' : 'console.no') },
    { label: t('console.col.firstSeen'), cell: (m: Machine) => when(m.firstSeen) },
    { label: t('console.col.lastSeen'), cell: (m: Machine) => when(m.lastSeen) },
    { label: t('console.col.requests'), cell: (m: Machine) => num(m.requests), num: true },
    { label: t('console.col.fingerprints'), cell: (m: Machine) => num(m.fingerprints), num: true },
    { label: t('console.col.lastOutcome'), cell: (m: Machine) => outcomeText(m.lastOutcome) },
  ];
}

export function Machines(_props: PageProps) {
  const [query, setQuery] = useState(new URLSearchParams());
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const page = useLoad(() => {
    const q = new URLSearchParams(query);
    q.set('limit', String(PAGE));
    if (cursor) q.set('cursor', cursor);
    return api<MachinePage>(`/api/machines?${q}`);
  }, [query.toString(), cursor]);
  const data = page.data;
  return (
    <>
      <h1>{t('console.page.machines')}</h1>
      <Filters
        onApply={(q) => {
          setQuery(q);
          pages.reset();
        }}
      />
      <ErrorNote error={page.error} />
      {data && (
        <>
          <Table
            caption={`${t('console.page.machines')} — ${t('console.pageNumber', { page: pages.page })}${
              data.total !== null ? ` (${t('console.total', { count: num(data.total) })})` : ''
            }`}
            rows={data.machines}
            columns={machineColumns()}
            testid="machine-table"
          />
          <Pager back={pages.back} forward={pages.forward(data.nextCursor)} />
        </>
      )}
    </>
  );
}
