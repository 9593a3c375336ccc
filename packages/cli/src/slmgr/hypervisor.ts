import { adminCall } from '../admin-client.js';
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
    `Hypervisor agent ${s.name} (ID ${s.hypervisorId})`,
    `Hypervisor activation: ${s.activated ? 'activated (does not expire)' : 'NOT activated'}`,
    `Guest editions: ${s.guestEditions.map((e) => e.code).join(', ') || '-'}`,
  ];
}

function verboseLines(s: HypervisorStatus): string[] {
  const tally = (t: Record<string, number>) =>
    Object.entries(t)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'none';
  return [
    `Datacenter keys: ${s.keys.map((k) => `${k.id} (partial ${k.partialKey}, group ${k.group}, ${k.activated ? `activated ${iso(k.activatedAt)}` : 'not activated'})`).join('; ') || '-'}`,
    `Authority: ${s.authorityUrl ?? '-'}`,
    `Inventory: ${s.inventory.source}, ${s.inventory.vms === null ? `unavailable (${s.inventory.error})` : `${s.inventory.vms} VMs`}`,
    `Guest channel: ${s.listen.join(', ')}${s.bridges.length ? ` on bridge ${s.bridges.join(', ')}` : ''}`,
    `Guest grants: ${s.grantValidityDays} days, renewed every ${s.renewalMinutes} minutes`,
    `Guests by last outcome: ${tally(s.guests)}`,
    `Requests by outcome: ${tally(s.requests)}`,
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
