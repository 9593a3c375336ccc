/** Tokens: list, create with scopes (the secret shown once), revoke with a confirm step. */
import { useState } from 'preact/hooks';
import { allows, api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { t, when } from '../common/i18n.js';
import { ConfirmButton, ErrorNote, Section, Table, announce, useLoad } from '../common/ui.js';

type Token = { id: string; name: string; scopes: string[]; createdAt: number; revokedAt: number | null };
type Issued = { id: string; token: string; name: string; scopes: string[] };
const scopes = ['read', 'issue', 'approve', 'admin'] as const;

function CreateForm({ onCreated }: { onCreated: (issued: Issued) => void }) {
  const [error, setError] = useState<unknown>(undefined);
  return (
    <form
      class="fields"
      data-testid="token-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const form = e.currentTarget;
        const data = new FormData(form);
        try {
          const issued = await api<Issued>('/v1/admin/tokens', {
            method: 'POST',
            body: { v: 1, name: String(data.get('name') ?? '').trim(), scopes: data.getAll('scope').map(String) },
          });
          setError(undefined);
          form.reset();
          onCreated(issued);
        } catch (err) {
          setError(err);
        }
      }}
    >
      <label>
        {t('console.tok.name')}
        <input type="text" name="name" required maxLength={100} data-testid="token-name" />
      </label>
      <fieldset>
        <legend>{t('console.tok.scopes')}</legend>
        {scopes.map((s) => (
          <label class="check">
            <input type="checkbox" name="scope" value={s} defaultChecked={s === 'read'} data-testid={`scope-${s}`} />
            {t(`console.scope.${s}`)}
          </label>
        ))}
      </fieldset>
      <button type="submit" data-testid="create-token">
        {t('console.tok.create')}
      </button>
      <ErrorNote error={error} />
    </form>
  );
}

export function Tokens({ session }: PageProps) {
  const admin = allows(session, 'admin');
  const list = useLoad(() => api<Token[]>('/v1/admin/tokens'), []);
  const [issued, setIssued] = useState<Issued | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  return (
    <>
      <h1>{t('console.page.tokens')}</h1>
      {!admin && <p data-testid="read-only">{t('console.readOnly', { scope: 'admin' })}</p>}
      {admin && (
        <Section title={t('console.tok.create')}>
          <CreateForm
            onCreated={(i) => {
              setIssued(i);
              announce(t('console.tok.created', { name: i.name }));
              void list.reload();
            }}
          />
          {issued && (
            <div class="card" data-testid="token-secret">
              <p>{t('console.tok.created', { name: issued.name })}</p>
              <label>
                {t('console.tok.secret')}
                <input type="text" readOnly value={issued.token} class="mono" size={60} />
              </label>
            </div>
          )}
        </Section>
      )}
      <ErrorNote error={list.error ?? error} />
      {list.data && (
        <Table
          caption={t('console.page.tokens')}
          rows={list.data}
          testid="token-table"
          rowKey={(k) => k.id}
          columns={[
            { label: t('console.col.id'), cell: (k) => <span class="mono">{k.id}</span> },
            { label: t('console.col.name'), cell: (k) => k.name },
            { label: t('console.col.scopes'), cell: (k) => k.scopes.join(', ') },
            { label: t('console.col.createdAt'), cell: (k) => when(k.createdAt) },
            { label: t('console.col.revokedAt'), cell: (k) => when(k.revokedAt) },
            {
              label: t('console.col.actions'),
              cell: (k) =>
                k.revokedAt === null &&
                admin && (
                  <ConfirmButton
                    label={t('console.tok.revoke')}
                    question={t('console.tok.revokeConfirm', { name: k.name })}
                    testid={`revoke-${k.id}`}
                    onConfirm={async () => {
                      try {
                        await api('/v1/admin/tokens/revoke', { method: 'POST', body: { v: 1, id: k.id } });
                        setError(undefined);
                        announce(t('console.tok.revoked', { name: k.name }));
                        await list.reload();
                      } catch (err) {
                        setError(err);
                      }
                    }}
                  />
                ),
            },
          ]}
        />
      )}
    </>
  );
}
