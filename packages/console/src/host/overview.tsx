/** Overview: the count gauge and chart, machine tiles, this host's activation, DNS and the log. */
import { useState } from 'preact/hooks';
import { api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { t, when, num } from '../common/i18n.js';
import { ErrorNote, Section, Table, useLoad } from '../common/ui.js';
import { CountChart } from './chart.js';
import { Gauge } from './gauge.js';
import type { CountHistory, LogState, Overview as OverviewData } from './types.js';

export const REFRESH_MS = 5000;

export function LogStateText({ log }: { log: LogState }) {
  const ids = {
    verified: 'console.log.verified',
    tampered: 'console.log.tampered',
    unverified: 'console.log.unverified',
    running: 'console.log.running',
  } as const;
  return (
    <div data-testid="log-state" data-state={log.state}>
      <p class={log.state === 'verified' ? 'state-ok' : log.state === 'tampered' ? 'state-bad' : undefined}>
        <strong>{t(ids[log.state] ?? 'console.log.unverified')}</strong>
      </p>
      {log.checkedAt !== null && log.checkedAt !== undefined && (
        <p>{t('console.log.checked', { at: when(log.checkedAt), records: num(log.records) })}</p>
      )}
      {log.problem && <p class="state-bad">{log.problem}</p>}
    </div>
  );
}

function Tiles({ m }: { m: OverviewData['machines'] }) {
  const tiles: [string, string, number][] = [
    ['licensed', t('console.ov.licensed'), m.licensed],
    ['grace', t('console.ov.grace'), m.grace],
    ['expiring', t('console.ov.expiring', { days: m.expiringSoonDays }), m.expiringSoon],
    ['notification', t('console.ov.notification'), m.notification],
    ['unlicensed', t('console.ov.unlicensed'), m.unlicensed],
  ];
  return (
    <>
      <dl class="tiles">
        {tiles.map(([id, label, value]) => (
          <div data-testid={`tile-${id}`}>
            <dt>{label}</dt>
            <dd>{num(value)}</dd>
          </div>
        ))}
      </dl>
      <p>{t('console.ov.machinesTotal', { count: num(m.total) })}</p>
    </>
  );
}

function HostPanel({ host }: { host: OverviewData['host'] }) {
  return (
    <>
      <p data-testid="host-activated" class={host.activated ? 'state-ok' : 'state-bad'}>
        <strong>{t(host.activated ? 'common.activated' : 'common.notActivated')}</strong>
      </p>
      <dl>
        <dt>{t('console.ov.hostName')}</dt>
        <dd>{host.hostName}</dd>
        <dt>{t('console.ov.hostId')}</dt>
        <dd class="mono">{host.hostId}</dd>
        {host.activationEndsAt ? (
          <>
            <dt>{t('console.ov.activationEnds')}</dt>
            <dd>{when(host.activationEndsAt)}</dd>
          </>
        ) : null}
      </dl>
      <Table
        caption={t('console.ov.keys')}
        rows={host.keys}
        columns={[
          { label: t('console.col.keyId'), cell: (k) => k.id },
          { label: t('console.col.key'), cell: (k) => <span class="mono">{k.partialKey}</span> },
          { label: t('console.col.group'), cell: (k) => k.group },
          { label: t('console.col.state'), cell: (k) => t(k.activated ? 'common.activated' : 'common.notActivated') },
          { label: t('console.col.activatedAt'), cell: (k) => when(k.activatedAt) },
        ]}
      />
    </>
  );
}

function DnsPanel({ dns }: { dns: OverviewData['dns'] }) {
  return (
    <>
      <p data-testid="dns-enabled">
        <strong>{t(dns.enabled ? 'common.enabled' : 'common.disabled')}</strong>
        {dns.consecutiveFailures > 0 && (
          <span class="state-bad"> — {t('console.ov.dnsFailures', { count: dns.consecutiveFailures })}</span>
        )}
      </p>
      <Table
        caption={t('console.ov.dns')}
        rows={dns.domains}
        columns={[
          { label: t('console.col.domain'), cell: (d) => d.domain },
          { label: t('console.col.server'), cell: (d) => d.server ?? '' },
          { label: t('console.col.published'), cell: (d) => t(d.published ? 'console.yes' : 'console.no') },
          { label: t('console.col.lastPublishedAt'), cell: (d) => when(d.lastPublishedAt) },
          { label: t('console.col.lastError'), cell: (d) => d.lastError ?? '' },
        ]}
      />
    </>
  );
}

export function Overview(_props: PageProps) {
  const [days, setDays] = useState(30);
  const overview = useLoad(() => api<OverviewData>('/api/overview'), [], REFRESH_MS);
  const history = useLoad(() => api<CountHistory>(`/api/count-history?days=${days}`), [days], REFRESH_MS);
  const o = overview.data;
  return (
    <>
      <h1>{t('console.page.overview')}</h1>
      <ErrorNote error={overview.error ?? history.error} />
      {!o ? (
        <p>{t('console.loading')}</p>
      ) : (
        <div class="grid">
          <Section title={t('console.ov.count')} testid="count">
            <Gauge
              count={o.currentCount}
              client={o.thresholds.client}
              server={o.thresholds.server}
              days={o.countWindowDays}
            />
          </Section>
          <Section title={t('console.ov.machines')} testid="machines">
            <Tiles m={o.machines} />
          </Section>
        </div>
      )}
      <Section title={t('console.ov.chart', { days })} testid="history">
        <div role="group" aria-label={t('console.ov.chartRange')} class="pager">
          {[30, 90].map((d) => (
            <button type="button" aria-pressed={days === d} data-testid={`days-${d}`} onClick={() => setDays(d)}>
              {t('console.days', { days: d })}
            </button>
          ))}
        </div>
        {history.data && <CountChart history={history.data} />}
      </Section>
      {o && (
        <div class="grid">
          <Section title={t('console.ov.host')} testid="host">
            <HostPanel host={o.host} />
          </Section>
          <Section title={t('console.ov.dns')} testid="dns">
            <DnsPanel dns={o.dns} />
          </Section>
          <Section title={t('console.ov.log')} testid="log">
            <LogStateText log={o.log} />
          </Section>
        </div>
      )}
    </>
  );
}
