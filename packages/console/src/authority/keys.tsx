/** Keys: host and datacenter keys and MAKs (masked) with what is used and left; hosts per host key. */
import { useState } from 'preact/hooks';
import { allows, api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { num, t, when } from '../common/i18n.js';
import { ConfirmButton, ErrorNote, Section, Table, announce, useLoad } from '../common/ui.js';

type HostKey = {
  id: string;
  key: string;
  groupCode: string;
  keyClass: 'host' | 'datacenter';
  maxHosts: number;
  hostsUsed: number;
  maxActivations: number;
  usedActivations: number;
};
type Mak = { id: string; key: string; edition: number; maxActivations: number; usedActivations: number };
type Holder = {
  hostId: string;
  hostName: string;
  firstActivatedAt: number;
  lastActivatedAt: number;
  activations: number;
};

function used(u: number, max: number): string {
  return t('console.keys.used', { used: num(u), max: num(max), left: num(Math.max(0, max - u)) });
}

function Hosts({ keyId, canRelease, onChange }: { keyId: string; canRelease: boolean; onChange: () => void }) {
  const hosts = useLoad(() => api<{ hosts: Holder[] }>(`/v1/admin/hosts?key=${encodeURIComponent(keyId)}`), [keyId]);
  const [error, setError] = useState<unknown>(undefined);
  return (
    <Section title={t('console.keys.hostsOf', { key: keyId })} testid="key-hosts">
      <ErrorNote error={hosts.error ?? error} />
      {hosts.data && (
        <Table
          caption={t('console.keys.hostsOf', { key: keyId })}
          rows={hosts.data.hosts}
          rowKey={(h) => h.hostId}
          columns={[
            { label: t('console.ov.hostName'), cell: (h) => h.hostName },
            { label: t('console.ov.hostId'), cell: (h) => <span class="mono">{h.hostId}</span> },
            { label: t('console.col.firstSeen'), cell: (h) => when(h.firstActivatedAt) },
            { label: t('console.col.lastSeen'), cell: (h) => when(h.lastActivatedAt) },
            { label: t('console.col.activations'), cell: (h) => num(h.activations), num: true },
            {
              label: t('console.col.actions'),
              cell: (h) => (
                <ConfirmButton
                  label={t('console.keys.release')}
                  question={t('console.keys.releaseConfirm', { host: h.hostName, key: keyId })}
                  disabled={!canRelease}
                  testid={`release-${h.hostId}`}
                  onConfirm={async () => {
                    try {
                      await api('/v1/admin/release-host', {
                        method: 'POST',
                        body: { v: 1, hostKeyId: keyId, hostId: h.hostId },
                      });
                      setError(undefined);
                      announce(t('console.keys.released', { host: h.hostName }));
                      await hosts.reload();
                      onChange();
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
    </Section>
  );
}

export function Keys({ session }: PageProps) {
  const hostKeys = useLoad(() => api<HostKey[]>('/v1/admin/host-keys'), []);
  const maks = useLoad(() => api<Mak[]>('/v1/admin/maks'), []);
  // edition names from the catalog (the MAK rows carry the number); the number alone if it fails
  const catalog = useLoad(
    () => api<{ catalog: { editions: { number: number; name: string }[] } }>('/v1/admin/catalog'),
    [],
  );
  const editionName = (n: number) => {
    const e = catalog.data?.catalog.editions.find((x) => x.number === n);
    return e ? `${e.name} (${n})` : String(n);
  };
  const [shown, setShown] = useState<string | undefined>(undefined);
  return (
    <>
      <h1>{t('console.page.keys')}</h1>
      <Section title={t('console.keys.hostKeys')}>
        <ErrorNote error={hostKeys.error} />
        {hostKeys.data && (
          <Table
            caption={t('console.keys.hostKeys')}
            rows={hostKeys.data}
            testid="host-keys"
            rowKey={(k) => k.id}
            columns={[
              { label: t('console.col.keyId'), cell: (k) => k.id },
              { label: t('console.col.key'), cell: (k) => <span class="mono">{k.key}</span> },
              {
                label: t('console.col.class'),
                cell: (k) => t(k.keyClass === 'host' ? 'console.keys.hostKey' : 'console.keys.datacenterKey'),
              },
              { label: t('console.col.group'), cell: (k) => k.groupCode },
              { label: t('console.col.activations'), cell: (k) => used(k.usedActivations, k.maxActivations) },
              { label: t('console.col.hosts'), cell: (k) => used(k.hostsUsed, k.maxHosts) },
              {
                label: t('console.col.actions'),
                cell: (k) => (
                  <button
                    type="button"
                    class="secondary"
                    aria-pressed={shown === k.id}
                    data-testid={`hosts-${k.id}`}
                    onClick={() => setShown(shown === k.id ? undefined : k.id)}
                  >
                    {t('console.keys.showHosts', { key: k.id })}
                  </button>
                ),
              },
            ]}
          />
        )}
      </Section>
      {shown && <Hosts keyId={shown} canRelease={allows(session, 'approve')} onChange={() => void hostKeys.reload()} />}
      <Section title={t('console.keys.maks')}>
        <ErrorNote error={maks.error} />
        {maks.data && (
          <Table
            caption={t('console.keys.maks')}
            rows={maks.data}
            testid="maks"
            columns={[
              { label: t('console.col.keyId'), cell: (k) => k.id },
              { label: t('console.col.key'), cell: (k) => <span class="mono">{k.key}</span> },
              { label: t('console.col.edition'), cell: (k) => editionName(k.edition) },
              { label: t('console.col.activations'), cell: (k) => used(k.usedActivations, k.maxActivations) },
            ]}
          />
        )}
      </Section>
    </>
  );
}
