import { VolactError, defaults } from '@volact/protocol';
import { adminCall } from '../admin-client.js';
import { t } from '../lang.js';
import { keyOptions } from './key-options.js';
import { slmgrOption, type SlmgrCall, type SlmgrOption } from './option.js';

/** What a host option acts on: the state directory of a running host, reached through its admin socket. */
export type HostContext = { dir: string };

const op = slmgrOption<HostContext>();

type HostStatus = {
  hostName: string;
  hostId: string | null;
  activated: boolean;
  currentCount: number;
  thresholds: { client: number; server: number };
  port: number;
  listenAddress: string;
  retryMinutes: number;
  renewalMinutes: number;
  priority: 'normal' | 'low';
  servedNetworks: string[];
  keys: { id: string; partialKey: string; group: number; activated: boolean; activatedAt: number | null }[];
  editions: { code: string; kind: string }[];
  requests: {
    total: number;
    failed: number;
    byOutcome: Record<string, number>;
    byLicenseState: Record<string, number>;
  };
  machinesWithSeveralFingerprints: number;
};

type HostDns = {
  enabled: boolean;
  configured: boolean;
  domain: string | null;
  target: string | null;
  published: { domain: string }[];
  unconfirmed: { domain: string }[];
  events: { event: number; code: string | null }[];
};

/** The host's DNS line: only what the DNS server confirmed is "published"; records sent without an answer are said apart. */
function dnsSummary(d: HostDns): string {
  const last = d.events.at(-1);
  const domains = (list: { domain: string }[]) => list.map((p) => p.domain).join(', ');
  return [
    ...(d.configured ? [t('dns.target', { target: String(d.target), domain: String(d.domain) })] : []),
    d.published.length ? t('dns.published', { domains: domains(d.published) }) : t('dns.nothing'),
    ...(d.unconfirmed.length ? [t('dns.unconfirmed', { domains: domains(d.unconfirmed) })] : []),
    ...(last?.event === 12293 ? [t('dns.lastFailed', { code: String(last.code) })] : []),
  ].join('; ');
}

/** -sai, -sri and -sprt: one number setting, checked here and by the host. */
function setting(name: 'retryMinutes' | 'renewalMinutes' | 'port') {
  return op({
    arity: 1,
    run: async ({ dir }, call) => {
      const value = Number(call.value);
      if (!/^-?\d+$/.test(call.value ?? ''))
        throw new VolactError('VALUE_OUT_OF_RANGE', {
          name,
          min: name === 'port' ? 1 : defaults.intervalMinMinutes,
          max: name === 'port' ? 65535 : defaults.intervalMaxMinutes,
          value: call.value ?? '',
        });
      return adminCall<HostStatus>(dir, 'POST', '/settings', { [name]: value });
    },
    render: (_status, call) => t(`host.set.${name}`, { value: Number(call.value) }),
  });
}

function statusLines(s: HostStatus): string[] {
  const { client, server } = s.thresholds;
  return [
    t('host.title', { name: s.hostName, id: s.hostId ? t('host.titleId', { id: s.hostId }) : '' }),
    t('host.activation', { state: t(s.activated ? 'host.activated' : 'host.notActivated') }),
    t('host.count', { count: s.currentCount, client, server }),
    t('host.port', { port: s.port }),
    t('host.retry', { minutes: s.retryMinutes }),
    t('dlv.renewal', { minutes: s.renewalMinutes }),
    t('host.priority', { priority: t(s.priority === 'low' ? 'host.priority.low' : 'host.priority.normal') }),
  ];
}

function verboseLines(s: HostStatus & { dns: HostDns }): string[] {
  const d = s.dns;
  const keyText = (k: HostStatus['keys'][number]) =>
    t('host.key', { id: k.id, group: k.group, state: t(k.activated ? 'common.activated' : 'common.notActivated') });
  const shown = d.configured || d.published.length || d.unconfirmed.length;
  return [
    t('host.address', { address: s.listenAddress }),
    t('host.networks', { networks: s.servedNetworks.join(', ') }),
    t('host.keys', { keys: s.keys.map(keyText).join('; ') || '-' }),
    t('host.editions', { editions: s.editions.map((e) => `${e.code} (${e.kind})`).join(', ') || '-' }),
    t('host.requests', { count: s.requests.total }),
    t('host.failed', { count: s.requests.failed }),
    ...Object.entries(s.requests.byOutcome).map(([outcome, count]) => `  ${t('host.byOutcome', { outcome, count })}`),
    ...Object.entries(s.requests.byLicenseState).map(([state, count]) => `  ${t('host.byState', { state, count })}`),
    t('host.severalFingerprints', { count: s.machinesWithSeveralFingerprints }),
    t('host.dns', {
      state: t(d.enabled ? 'common.enabled' : 'common.disabled'),
      summary: shown ? t('host.dnsSummary', { summary: dnsSummary(d) }) : t('host.dnsNotConfigured'),
    }),
  ];
}

const status = ({ dir }: HostContext) => adminCall<HostStatus>(dir, 'GET', '/status');
const dns = (r: { enabled: boolean; configured: boolean }) =>
  r.enabled
    ? t('host.set.dnsOn', { detail: t(r.configured ? 'host.set.dnsOnConfigured' : 'host.set.dnsOnNotConfigured') })
    : t('host.set.dnsOff');
const setDns =
  (enabled: boolean) =>
  ({ dir }: HostContext, _call: SlmgrCall) =>
    adminCall<{ enabled: boolean; configured: boolean }>(dir, 'POST', '/dns', { enabled });

/** -spri (low) and -cpri (normal): the host process's priority, applied at once and at every start. */
const priority = (to: 'normal' | 'low') =>
  op({
    arity: 0,
    run: ({ dir }: HostContext) => adminCall<HostStatus>(dir, 'POST', '/priority', { priority: to }),
    render: () => t('host.set.priority', { priority: t(to === 'low' ? 'host.priority.low' : 'host.priority.normal') }),
  });

/** The options of `volact slmgr --host DIR`, in the order `known:` lists them. */
const keys = keyOptions<HostContext>({ key: 'host key', slots: 'hosts', flag: '--host' });

export const hostOptions: Record<string, SlmgrOption<HostContext, unknown>> = {
  ipk: keys.ipk,
  ato: keys.ato,
  dli: op({ arity: 0, run: status, render: (s) => statusLines(s).join('\n') }),
  dlv: op({
    arity: 0,
    run: async (ctx) => {
      const s = await status(ctx);
      return { ...s, dns: await adminCall<HostDns>(ctx.dir, 'GET', '/dns?limit=1') };
    },
    render: (s) => [...statusLines(s), ...verboseLines(s)].join('\n'),
  }),
  xpr: op({ arity: 0, run: status, render: (s) => statusLines(s)[1]! }),
  upk: keys.upk,
  sai: setting('retryMinutes'),
  sri: setting('renewalMinutes'),
  sprt: setting('port'),
  dti: keys.dti,
  atp: keys.atp,
  'upd-catalog': keys['upd-catalog'],
  sdns: op({ arity: 0, run: setDns(true), render: dns }),
  cdns: op({ arity: 0, run: setDns(false), render: dns }),
  spri: priority('low'),
  cpri: priority('normal'),
};
