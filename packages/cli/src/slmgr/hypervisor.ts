import { adminCall } from '../admin-client.js';
import { t } from '../lang.js';
import { iso } from '../output.js';
import { keyOptions } from './key-options.js';
import { slmgrOption, type SlmgrOption } from './option.js';

/** What a hypervisor option acts on: the state directory of a running agent, reached through its admin socket. */
export type HypervisorContext = { dir: string };

const op = slmgrOption<HypervisorContext>();

const call = <T>(dir: string, method: 'GET' | 'POST', path: string, body?: unknown) =>
  adminCall<T>(dir, method, path, body, 'HYPERVISOR_UNAVAILABLE');

/** GET /status on the agent (HypervisorAgent.status). */
export type HypervisorStatus = {
  name: string;
  hypervisorId: string;
  activated: boolean;
  authorityUrl: string | null;
  keys: { id: string; partialKey: string; group: number; activated: boolean; activatedAt: number | null }[];
  guestEditions: { number: number; code: string; name: string }[];
  inventory: { source: string; vms: number | null; error: string | null };
  listen: string[];
  bridges: string[];
  guests: Record<string, number>;
  requests: Record<string, number>;
  grantValidityDays: number;
  renewalMinutes: number;
};

const status = ({ dir }: HypervisorContext) => call<HypervisorStatus>(dir, 'GET', '/status');

function statusLines(s: HypervisorStatus): string[] {
  return [
    t('hv.title', { name: s.name, id: s.hypervisorId }),
    t('hv.activation', { state: t(s.activated ? 'host.activated' : 'host.notActivated') }),
    t('hv.editions', { editions: s.guestEditions.map((e) => e.code).join(', ') || '-' }),
  ];
}

function verboseLines(s: HypervisorStatus): string[] {
  const tally = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || t('common.none');
  const keyText = (k: HypervisorStatus['keys'][number]) =>
    t('hv.key', {
      id: k.id,
      partialKey: k.partialKey,
      group: k.group,
      state: k.activated ? t('hv.keyActivated', { at: iso(k.activatedAt) }) : t('common.notActivated'),
    });
  const inv = s.inventory;
  return [
    t('hv.keys', { keys: s.keys.map(keyText).join('; ') || '-' }),
    t('hv.authority', { url: s.authorityUrl ?? '-' }),
    t('hv.inventory', {
      source: inv.source,
      vms:
        inv.vms === null ? t('hv.inventoryUnavailable', { error: String(inv.error) }) : t('hv.vms', { count: inv.vms }),
    }),
    t('hv.channel', {
      listen: s.listen.join(', '),
      bridges: s.bridges.length ? t('hv.bridges', { bridges: s.bridges.join(', ') }) : '',
    }),
    t('hv.grants', { days: s.grantValidityDays, minutes: s.renewalMinutes }),
    t('hv.guests', { tally: tally(s.guests) }),
    t('hv.requests', { tally: tally(s.requests) }),
  ];
}

/** The options of `volact slmgr --hypervisor DIR`, in the order `known:` lists them. */
const keys = keyOptions<HypervisorContext>({
  key: 'datacenter key',
  slots: 'hypervisors',
  flag: '--hypervisor',
  unavailable: 'HYPERVISOR_UNAVAILABLE',
});

export const hypervisorOptions: Record<string, SlmgrOption<HypervisorContext, unknown>> = {
  ipk: keys.ipk,
  upk: keys.upk,
  ato: keys.ato,
  dti: keys.dti,
  atp: keys.atp,
  'upd-catalog': keys['upd-catalog'],
  dli: op({ arity: 0, run: status, render: (s) => statusLines(s).join('\n') }),
  dlv: op({ arity: 0, run: status, render: (s) => [...statusLines(s), ...verboseLines(s)].join('\n') }),
  xpr: op({ arity: 0, run: status, render: (s) => statusLines(s)[1]! }),
};
