/** Settings: intervals and port, and DNS publishing; read-only without the admin scope. */
import { useState } from 'preact/hooks';
import { allows, api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { t } from '../common/i18n.js';
import { ErrorNote, Section, announce, useLoad } from '../common/ui.js';
import type { Status } from './types.js';

function NumberField(props: {
  name: string;
  label: string;
  value: number;
  min: number;
  max: number;
  disabled: boolean;
}) {
  return (
    <label>
      {props.label}
      <input
        type="number"
        name={props.name}
        defaultValue={String(props.value)}
        min={props.min}
        max={props.max}
        step="1"
        required
        readOnly={props.disabled}
        data-testid={`setting-${props.name}`}
      />
    </label>
  );
}

function IntervalForm({ status, admin, onSaved }: { status: Status; admin: boolean; onSaved: () => void }) {
  const [error, setError] = useState<unknown>(undefined);
  return (
    <form
      class="fields"
      data-testid="settings-form"
      noValidate
      onSubmit={async (e) => {
        e.preventDefault();
        const data = new FormData(e.currentTarget);
        const body: Record<string, number> = {};
        for (const name of ['renewalMinutes', 'retryMinutes', 'port']) {
          const value = Number(data.get(name));
          if (value !== status[name]) body[name] = value;
        }
        try {
          await api('/api/settings', { method: 'POST', body });
          setError(undefined);
          announce(t('console.set.saved'));
          onSaved();
        } catch (err) {
          announce(''); // not "saved" beside the refusal
          setError(err);
        }
      }}
    >
      <NumberField
        name="renewalMinutes"
        label={t('console.set.renewal')}
        value={status.renewalMinutes}
        min={15}
        max={43200}
        disabled={!admin}
      />
      <NumberField
        name="retryMinutes"
        label={t('console.set.retry')}
        value={status.retryMinutes}
        min={15}
        max={43200}
        disabled={!admin}
      />
      <NumberField
        name="port"
        label={t('console.set.port')}
        value={status.port}
        min={1}
        max={65535}
        disabled={!admin}
      />
      {admin && (
        <button type="submit" data-testid="save-settings">
          {t('console.save')}
        </button>
      )}
      <ErrorNote error={error} />
    </form>
  );
}

function DnsForm({ enabled, admin, onSaved }: { enabled: boolean; admin: boolean; onSaved: () => void }) {
  const [error, setError] = useState<unknown>(undefined);
  return (
    <form
      class="fields"
      data-testid="dns-form"
      onSubmit={async (e) => {
        e.preventDefault();
        const on = new FormData(e.currentTarget).get('enabled') === 'on';
        try {
          await api('/api/dns', { method: 'POST', body: { enabled: on } });
          setError(undefined);
          announce(t('console.set.saved'));
          onSaved();
        } catch (err) {
          announce(''); // not "saved" beside the refusal
          setError(err);
        }
      }}
    >
      <label class="check">
        <input type="checkbox" name="enabled" defaultChecked={enabled} disabled={!admin} data-testid="setting-dns" />
        {t('console.set.dnsEnabled')}
      </label>
      {admin && (
        <button type="submit" data-testid="save-dns">
          {t('console.save')}
        </button>
      )}
      <ErrorNote error={error} />
    </form>
  );
}

export function Settings({ session }: PageProps) {
  const admin = allows(session, 'admin');
  const status = useLoad(() => api<Status>('/api/status'), []);
  const dns = useLoad(() => api<{ enabled?: boolean; config?: { enabled?: boolean } }>('/api/dns'), []);
  const dnsEnabled = Boolean(dns.data?.enabled ?? dns.data?.config?.enabled);
  return (
    <>
      <h1>{t('console.page.settings')}</h1>
      {!admin && <p data-testid="read-only">{t('console.readOnly', { scope: 'admin' })}</p>}
      <Section title={t('console.set.intervals')}>
        <ErrorNote error={status.error} />
        {status.data && (
          <IntervalForm
            key={JSON.stringify([status.data.renewalMinutes, status.data.retryMinutes, status.data.port])}
            status={status.data}
            admin={admin}
            onSaved={() => void status.reload()}
          />
        )}
      </Section>
      <Section title={t('console.ov.dns')}>
        <ErrorNote error={dns.error} />
        {dns.data && (
          <DnsForm key={String(dnsEnabled)} enabled={dnsEnabled} admin={admin} onSaved={() => void dns.reload()} />
        )}
      </Section>
    </>
  );
}
