import type { Command } from 'commander';
import { emit, iso, table } from '../../output.js';
import { cliActor, intOption, run, storeCommand, withAuthority } from './common.js';

/** The limits both slot keys take: distinct hosts (or agents) and activations in all. */
const slotLimits = (o: Record<string, unknown>) => ({
  maxHosts: intOption('hosts', o.hosts as string | undefined, 1, 100_000),
  maxActivations: intOption('activations', o.activations as string | undefined, 1, 100_000),
});

/** `authority issue-host-key`, `issue-datacenter-key`, `host-keys`, `issue-mak` and `maks`: the keys customers buy. */
export function registerKeys(cmd: Command): void {
  storeCommand(cmd, 'issue-host-key')
    .description('issue a host key for a product group (shown once; only its hash is stored)')
    .requiredOption('--group <code>', 'product group code, e.g. server-2026')
    .option('--hosts <n>', 'distinct hosts allowed (default 6)')
    .option('--activations <n>', 'activations allowed in all (default 10)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const k = await authority.issueHostKey(o.group as string, slotLimits(o), cliActor());
          emit(
            Boolean(o.json),
            k,
            () =>
              `${k.key}\nHost key ${k.id} for ${k.group}: ${k.maxHosts} hosts, ${k.maxActivations} activations. It is shown only now.`,
          );
        });
      }),
    );

  registerIssueDatacenterKey(cmd);

  storeCommand(cmd, 'host-keys')
    .description('list issued host and datacenter keys with hosts and activations used (never the whole key)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          // numbers in JSON, named as -ato --json names them; "used/limit" only in the table
          const rows = (await authority.listHostKeys()).map((k) => ({
            id: k.id,
            key: `*****-*****-*****-*****-${k.partial}`,
            keyClass: k.keyClass,
            group: k.groupCode,
            hostsUsed: k.hostsUsed,
            hostsLimit: k.maxHosts,
            activationsUsed: k.usedActivations,
            activationsLimit: k.maxActivations,
            issued: iso(k.createdAt),
          }));
          const cells = rows.map((r) => ({
            ...r,
            class: r.keyClass,
            hosts: `${r.hostsUsed}/${r.hostsLimit}`,
            activations: `${r.activationsUsed}/${r.activationsLimit}`,
          }));
          emit(Boolean(o.json), rows, () =>
            table(cells, ['id', 'class', 'key', 'group', 'hosts', 'activations', 'issued']),
          );
        });
      }),
    );

  storeCommand(cmd, 'issue-mak')
    .description('issue a MAK (multiple activation key) for one edition (shown once; only its hash is stored)')
    .requiredOption('--edition <code>', 'edition code, e.g. desk-enterprise')
    .requiredOption('--activations <n>', 'how many machines it may activate')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const k = await authority.issueMak(
            o.edition as string,
            intOption('activations', o.activations as string, 1, 10_000_000)!,
            cliActor(),
          );
          emit(
            Boolean(o.json),
            k,
            () => `${k.key}\nMAK ${k.id} for ${k.edition}: ${k.maxActivations} activations. It is shown only now.`,
          );
        });
      }),
    );

  storeCommand(cmd, 'maks')
    .description('list issued MAKs with activations used (never the whole key)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const rows = (await authority.listMaks()).map((k) => ({
            id: k.id,
            key: `*****-*****-*****-*****-${k.partial}`,
            edition: k.edition,
            activationsUsed: k.usedActivations,
            activationsLimit: k.maxActivations,
            activationsLeft: k.maxActivations - k.usedActivations,
            issued: iso(k.createdAt),
          }));
          const cells = rows.map((r) => ({
            ...r,
            activations: `${r.activationsUsed}/${r.activationsLimit}`,
            left: r.activationsLeft,
          }));
          emit(Boolean(o.json), rows, () => table(cells, ['id', 'key', 'edition', 'activations', 'left', 'issued']));
        });
      }),
    );
}

/** `authority issue-datacenter-key`: the key a hypervisor agent activates with (automatic VM activation). */
function registerIssueDatacenterKey(cmd: Command): void {
  storeCommand(cmd, 'issue-datacenter-key')
    .description(
      "issue a datacenter key for hypervisor agents: they activate the group's guest editions in their VMs (shown once; only its hash is stored)",
    )
    .requiredOption('--group <code>', 'product group code with guest editions, e.g. server-2026')
    .option('--hosts <n>', 'distinct hypervisor agents allowed (default 6)')
    .option('--activations <n>', 'activations allowed in all (default 10)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const k = await authority.issueDatacenterKey(o.group as string, slotLimits(o), cliActor());
          emit(Boolean(o.json), k, () =>
            [
              k.key,
              `Datacenter key ${k.id} for ${k.group}: ${k.maxHosts} hypervisor agents, ${k.maxActivations} activations.`,
              `Its agents activate guests of: ${k.guestEditions.join(', ')}. It is shown only now.`,
            ].join('\n'),
          );
        });
      }),
    );
}
