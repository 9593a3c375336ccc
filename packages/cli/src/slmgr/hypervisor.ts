import { exitCodes } from '@volact/protocol';
import { adminCall } from '../admin-client.js';
import { iso } from '../output.js';
import { qrText, qrWanted } from '../qr.js';
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
export const hypervisorOptions: Record<string, SlmgrOption<HypervisorContext, unknown>> = {
  ipk: op({
    arity: 1,
    run: ({ dir }, c) => call<{ id: string; partial: string; group: number }>(dir, 'POST', '/keys', { key: c.value }),
    render: (r) =>
      `Installed datacenter key ${r.partial} for product group ${r.group} successfully (ID ${r.id}). Activate it with -ato.`,
  }),
  upk: op({
    arity: 1,
    run: ({ dir }, c) => call<{ removed: number }>(dir, 'POST', '/keys/remove', { which: c.value }),
    render: (r) =>
      r.removed
        ? 'Uninstalled datacenter key successfully.'
        : 'No installed datacenter key has that ID or those last five characters.',
    exit: (r) => (r.removed ? 0 : exitCodes.input),
  }),
  ato: op({
    arity: 0,
    run: ({ dir }) =>
      call<{
        activated: {
          id: string;
          group: string;
          hostsUsed: number;
          hostsLimit: number;
          activationsUsed: number;
          activationsLimit: number;
        }[];
      }>(dir, 'POST', '/activate', { force: true }),
    render: (r) =>
      r.activated
        .map(
          (a) =>
            `Datacenter key ${a.id} (${a.group}) activated successfully: ${a.hostsUsed} of ${a.hostsLimit} hypervisors, ${a.activationsUsed} of ${a.activationsLimit} activations used.`,
        )
        .join('\n'),
  }),
  dti: op({
    arity: 0,
    run: ({ dir }) =>
      call<{ keys: { id: string; group: number; activated: boolean; installationId: string }[] }>(
        dir,
        'GET',
        '/offline/installation-ids',
      ),
    render: (r) =>
      r.keys
        .map((k) =>
          [
            `Datacenter key ${k.id} (group ${k.group}${k.activated ? ', already activated' : ''}), installation ID:`,
            '',
            `  ${k.installationId}`,
            '',
            ...(qrWanted() ? [qrText(k.installationId)] : []),
          ].join('\n'),
        )
        .concat(
          'Give it to your publisher and apply the answer with: volact slmgr --hypervisor DIR -atp CONFIRMATION-ID',
        )
        .join('\n'),
  }),
  atp: op({
    arity: -1,
    run: ({ dir }, c) =>
      call<{ id: string; group: string }>(dir, 'POST', '/offline/confirm', { confirmationId: c.value }),
    render: (r) => `Confirmation ID applied successfully: datacenter key ${r.id} (${r.group}) is activated.`,
  }),
  dli: op({ arity: 0, run: status, render: (s) => statusLines(s).join('\n') }),
  dlv: op({ arity: 0, run: status, render: (s) => [...statusLines(s), ...verboseLines(s)].join('\n') }),
  xpr: op({ arity: 0, run: status, render: (s) => statusLines(s)[1]! }),
};
