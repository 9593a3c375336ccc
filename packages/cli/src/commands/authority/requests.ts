import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { emit, iso, table } from '../../output.js';
import { cliActor, intOption, run, storeCommand, withAuthority } from './common.js';

/** `authority requests`, `approve`, `reject` and `release-host`: customers' requests for more. */
export function registerRequests(cmd: Command): void {
  storeCommand(cmd, 'requests')
    .description('increase requests from customers, with every step')
    .option('--state <state>', 'pending | approved | rejected')
    .action(
      run(async (o) => {
        const state = o.state as 'pending' | 'approved' | 'rejected' | undefined;
        if (state && !['pending', 'approved', 'rejected'].includes(state))
          throw new VolactError('USAGE', { detail: '--state is pending, approved or rejected' });
        await withAuthority(o, async (authority) => {
          const rows = await authority.increaseRequests(state);
          emit(Boolean(o.json), rows, () =>
            table(
              rows.map((r) => ({ ...r, asked: `${r.amount} ${r.what}`, created: iso(r.createdAt) })),
              ['id', 'keyKind', 'keyId', 'asked', 'state', 'granted', 'created', 'reason'],
            ),
          );
        });
      }),
    );

  for (const verb of ['approve', 'reject'] as const) {
    storeCommand(cmd, verb)
      .argument('<id>', 'request ID (IR-…)')
      .description(
        verb === 'approve'
          ? 'approve a request: the limit rises at once (by --amount, default what was asked)'
          : 'reject a request',
      )
      .option('--amount <n>', 'how many to grant (approve only)')
      .option('--note <text>', 'a note the customer sees')
      .action(
        run(async (o) => {
          await withAuthority(o, async (authority) => {
            const amount =
              verb === 'approve' ? intOption('amount', o.amount as string | undefined, 1, 10_000_000) : undefined;
            const r = await authority.decideIncrease(
              o._arg as string,
              verb === 'approve',
              amount,
              o.note as string | undefined,
              cliActor(),
            );
            emit(
              Boolean(o.json),
              r,
              () => `Request ${r.id} ${r.state}${r.granted ? `: ${r.granted} more ${r.what}` : ''}.`,
            );
          });
        }),
      );
  }

  storeCommand(cmd, 'release-host')
    .description('free the host slot of a decommissioned host (or hypervisor agent) on a host (or datacenter) key')
    .requiredOption('--key-id <id>', 'host key ID (HK-…) or datacenter key ID (DK-…)')
    .requiredOption('--host-id <id>', 'host ID (H…, shown by the host -dlv) or hypervisor agent ID (V…)')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          await authority.releaseHost(o.keyId as string, o.hostId as string, cliActor());
          emit(
            Boolean(o.json),
            { released: true },
            () => `Host ${o.hostId as string} no longer holds a slot on ${o.keyId as string}.`,
          );
        });
      }),
    );
}
