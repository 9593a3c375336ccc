/** Increase requests: by state; approve with an amount, reject with a note (scope approve). */
import { useState } from 'preact/hooks';
import { allows, api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { num, t, when } from '../common/i18n.js';
import { ErrorNote, Table, announce, useLoad } from '../common/ui.js';

type Request = {
  id: string;
  keyKind: 'host-key' | 'mak';
  keyId: string;
  what: 'hosts' | 'activations';
  amount: number;
  reason: string;
  state: 'pending' | 'approved' | 'rejected';
  granted: number | null;
  note: string | null;
  createdAt: number;
};
const states = ['pending', 'approved', 'rejected'] as const;

function Decide({ r, onDone }: { r: Request; onDone: (error?: unknown) => void }) {
  const decide = async (form: HTMLFormElement, decision: 'approve' | 'reject') => {
    const data = new FormData(form);
    const note = String(data.get('note') ?? '').trim();
    const body: Record<string, unknown> = { v: 1, id: r.id, decision };
    if (decision === 'approve') body.amount = Number(data.get('amount'));
    if (note) body.note = note;
    try {
      await api('/v1/admin/requests/decide', { method: 'POST', body });
      announce(t(decision === 'approve' ? 'console.req.wasApproved' : 'console.req.wasRejected', { id: r.id }));
      onDone();
    } catch (err) {
      onDone(err);
    }
  };
  return (
    <form class="fields" data-testid={`decide-${r.id}`} onSubmit={(e) => e.preventDefault()}>
      <label>
        {t('console.req.amount')}
        <input type="number" name="amount" min="1" defaultValue={String(r.amount)} data-testid="amount" />
      </label>
      <label>
        {t('console.req.note')}
        <input type="text" name="note" maxLength={1000} data-testid="note" />
      </label>
      <button type="button" data-testid="approve" onClick={(e) => decide(e.currentTarget.form!, 'approve')}>
        {t('console.req.approve')}
      </button>
      <button
        type="button"
        class="danger"
        data-testid="reject"
        onClick={(e) => decide(e.currentTarget.form!, 'reject')}
      >
        {t('console.req.reject')}
      </button>
    </form>
  );
}

export function Requests({ session }: PageProps) {
  const [state, setState] = useState<string>('pending');
  const [error, setError] = useState<unknown>(undefined);
  const list = useLoad(() => api<Request[]>(`/v1/admin/requests${state ? `?state=${state}` : ''}`), [state]);
  const canDecide = allows(session, 'approve');
  return (
    <>
      <h1>{t('console.page.requests')}</h1>
      <form class="filters card" onSubmit={(e) => e.preventDefault()}>
        <label>
          {t('console.col.state')}
          <select value={state} data-testid="request-state" onChange={(e) => setState(e.currentTarget.value)}>
            <option value="">{t('console.any')}</option>
            {states.map((s) => (
              <option value={s}>{t(`console.req.${s}`)}</option>
            ))}
          </select>
        </label>
      </form>
      {!canDecide && <p data-testid="read-only">{t('console.readOnly', { scope: 'approve' })}</p>}
      <ErrorNote error={list.error ?? error} />
      {list.data && (
        <Table
          caption={t('console.page.requests')}
          rows={list.data}
          testid="request-table"
          rowKey={(r) => r.id}
          columns={[
            { label: t('console.col.id'), cell: (r) => <span class="mono">{r.id}</span> },
            { label: t('console.col.keyId'), cell: (r) => r.keyId },
            {
              label: t('console.col.what'),
              cell: (r) => t(r.what === 'hosts' ? 'console.col.hosts' : 'console.col.activations'),
            },
            { label: t('console.col.amount'), cell: (r) => num(r.amount), num: true },
            { label: t('console.col.reason'), cell: (r) => r.reason },
            { label: t('console.col.createdAt'), cell: (r) => when(r.createdAt) },
            { label: t('console.col.state'), cell: (r) => t(`console.req.${r.state}`) },
            { label: t('console.col.granted'), cell: (r) => num(r.granted), num: true },
            { label: t('console.col.note'), cell: (r) => r.note ?? '' },
            {
              label: t('console.col.actions'),
              cell: (r) =>
                r.state === 'pending' && canDecide ? (
                  <Decide
                    r={r}
                    onDone={(err) => {
                      setError(err);
                      void list.reload();
                    }}
                  />
                ) : null,
            },
          ]}
        />
      )}
    </>
  );
}
