/** Audit log: newest first, as many entries as asked for (1 to 1000). */
import { useState } from 'preact/hooks';
import { api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { t, when } from '../common/i18n.js';
import { ErrorNote, Table, useLoad } from '../common/ui.js';

type Entry = { seq: number; actor: string; action: string; target: string; detail: string; at: number };

export function Audit(_props: PageProps) {
  const [limit, setLimit] = useState(100);
  const log = useLoad(() => api<Entry[]>(`/v1/admin/audit?limit=${limit}`), [limit]);
  return (
    <>
      <h1>{t('console.page.audit')}</h1>
      <form
        class="filters card"
        onSubmit={(e) => {
          e.preventDefault();
          setLimit(Number(new FormData(e.currentTarget).get('limit')) || 100);
        }}
      >
        <label>
          {t('console.audit.limit')}
          <input type="number" name="limit" min="1" max="1000" defaultValue={String(limit)} data-testid="audit-limit" />
        </label>
        <button type="submit">{t('console.apply')}</button>
      </form>
      <ErrorNote error={log.error} />
      {log.data && (
        <Table
          caption={t('console.page.audit')}
          rows={log.data}
          testid="audit-table"
          columns={[
            { label: t('console.col.seq'), cell: (e) => e.seq, num: true },
            { label: t('console.col.at'), cell: (e) => when(e.at) },
            { label: t('console.col.actor'), cell: (e) => e.actor },
            { label: t('console.col.action'), cell: (e) => e.action },
            { label: t('console.col.target'), cell: (e) => e.target },
            { label: t('console.col.detail'), cell: (e) => e.detail },
          ]}
        />
      )}
    </>
  );
}
