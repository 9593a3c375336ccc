/** Events: the filters of `volact host events`, the log verification state and "verify now". */
import { useState } from 'preact/hooks';
import { allows, api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { t, when } from '../common/i18n.js';
import { ErrorNote, Pager, Section, Table, announce, useCursorPages, useLoad } from '../common/ui.js';
import { outcomeText, stateText } from './machines.js';
import { LogStateText, REFRESH_MS } from './overview.js';
import type { LogState } from './types.js';

type Event = Record<string, unknown> & { at?: number | string };
const outcomes = ['activated', 'renewed', 'countInsufficient', 'editionNotCovered', 'clockSkew', 'notActivated'];
const columns = ['machineId', 'vm', 'licenseState', 'edition', 'outcome', 'count', 'required'] as const;

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'boolean') return t(v ? 'console.yes' : 'console.no');
  return String(v);
}

function LogPanel({ canVerify }: { canVerify: boolean }) {
  const log = useLoad(() => api<LogState>('/api/log-verification'), [], REFRESH_MS);
  const [error, setError] = useState<unknown>(undefined);
  return (
    <Section title={t('console.ov.log')} testid="log">
      <ErrorNote error={log.error ?? error} />
      {log.data && <LogStateText log={log.data} />}
      <button
        type="button"
        disabled={!canVerify || log.data?.state === 'running'}
        data-testid="verify-now"
        onClick={async () => {
          try {
            await api('/api/log-verification', { method: 'POST', body: {} });
            setError(undefined);
            announce(t('console.log.started'));
            await log.reload();
          } catch (err) {
            announce('');
            setError(err);
          }
        }}
      >
        {t('console.log.verifyNow')}
      </button>
      {!canVerify && <p>{t('console.readOnly', { scope: 'admin' })}</p>}
    </Section>
  );
}

export function Events({ session }: PageProps) {
  const [query, setQuery] = useState('limit=100');
  const pages = useCursorPages();
  const cursor = pages.cursor;
  const events = useLoad(
    () =>
      api<{ events: Event[]; nextCursor?: string | null }>(
        `/api/events?${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      ),
    [query, cursor],
  );
  const next = events.data?.nextCursor ?? null;
  // edition names from the host's status (the events carry the number); the number alone if unknown
  const status = useLoad(() => api<{ editions: { number: number; name: string }[] }>('/api/status'), []);
  const editionName = (n: unknown) => {
    const e = status.data?.editions.find((x) => x.number === n);
    return e ? `${e.name} (${String(n)})` : cellText(n);
  };
  return (
    <>
      <h1>{t('console.page.events')}</h1>
      <LogPanel canVerify={allows(session, 'admin')} />
      <form
        class="filters card"
        role="search"
        aria-label={t('console.m.filters')}
        data-testid="event-filters"
        onSubmit={(e) => {
          e.preventDefault();
          const q = new URLSearchParams();
          for (const [k, v] of new FormData(e.currentTarget)) {
            if (typeof v !== 'string' || v.trim() === '') continue;
            q.set(k, k === 'since' || k === 'until' ? new Date(v).toISOString() : v.trim());
          }
          setQuery(q.toString());
          pages.reset();
        }}
      >
        <label>
          {t('console.ev.since')}
          <input type="datetime-local" name="since" data-testid="filter-since" />
        </label>
        <label>
          {t('console.ev.until')}
          <input type="datetime-local" name="until" data-testid="filter-until" />
        </label>
        <label>
          {t('console.col.machineId')}
          <input type="text" name="machine" data-testid="filter-machine" />
        </label>
        <label>
          {t('console.col.outcome')}
          <select name="outcome" data-testid="filter-outcome">
            <option value="">{t('console.any')}</option>
            {outcomes.map((o) => (
              <option value={o}>{outcomeText(o)}</option>
            ))}
          </select>
        </label>
        <label>
          {t('console.ev.limit')}
          <input type="number" name="limit" min="1" max="1000" defaultValue="100" data-testid="filter-limit" />
        </label>
        <button type="submit" data-testid="apply">
          {t('console.apply')}
        </button>
      </form>
      <ErrorNote error={events.error} />
      {events.data && (
        <Table
          caption={t('console.page.events')}
          rows={events.data.events}
          testid="event-table"
          columns={[
            { label: t('console.col.at'), cell: (e: Event) => when(e.at) },
            { label: t('console.col.event'), cell: (e: Event) => cellText(e.event) },
            ...columns.map((c) => ({
              label: t(`console.col.${c}`),
              cell: (e: Event) =>
                c === 'outcome'
                  ? outcomeText(e[c])
                  : c === 'licenseState'
                    ? stateText(e[c])
                    : c === 'edition'
                      ? editionName(e[c])
                      : cellText(e[c]),
            })),
          ]}
        />
      )}
      <Pager back={pages.back} forward={pages.forward(next)} />
    </>
  );
}
