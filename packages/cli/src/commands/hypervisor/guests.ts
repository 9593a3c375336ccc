import type { Command } from 'commander';
import { adminCall } from '../../admin-client.js';
import { eventQuery, printEvents } from '../../event-query.js';
import { emit, fail, iso, table } from '../../output.js';
import { defaultHypervisorDir } from './serve.js';

const call = <T>(dir: string | undefined, path: string) =>
  adminCall<T>(dir ?? defaultHypervisorDir(), 'GET', path, undefined, 'HYPERVISOR_UNAVAILABLE');

/** Times as ISO text, as host events and client events print them (the agent keeps milliseconds). */
function withIsoTimes(row: Record<string, unknown>, fields: string[]): Record<string, unknown> {
  const out = { ...row };
  for (const f of fields) out[f] = typeof row[f] === 'number' ? iso(row[f]) : null;
  return out;
}
const guestTimes = ['firstSeen', 'lastRequest', 'grantedUntil'];

/** `volact hypervisor guests` and `volact hypervisor events`: what the running agent has seen. */
export function registerGuests(cmd: Command): void {
  cmd
    .command('guests')
    .description(
      "each VM of the inventory that asked: edition, last request and outcome, grant expiry (the hoster's compliance view)",
    )
    .option('--state <dir>', 'agent state directory (env VOLACT_HYPERVISOR_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const rows = (await call<Record<string, unknown>[]>(o.state as string | undefined, '/guests')).map((r) =>
          withIsoTimes(r, guestTimes),
        );
        emit(Boolean(o.json), rows, () =>
          table(
            rows.map((r) => ({
              ...r,
              edition: r.editionCode ?? r.edition,
              outcome: r.lastReason ? `${String(r.lastOutcome)} (${String(r.lastReason)})` : r.lastOutcome,
              expires: r.grantedUntil ?? '-',
            })),
            ['vmName', 'vmUuid', 'edition', 'machineName', 'lastRequest', 'outcome', 'expires', 'requests'],
          ),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('events')
    .description('guest-channel requests (event 12310): VM UUID, machine ID, edition, outcome, reason, address, MAC')
    .option('--state <dir>', 'agent state directory (env VOLACT_HYPERVISOR_DIR)')
    .option('--since <time>', 'ISO time')
    .option('--vm <uuid>', 'one VM UUID')
    .option('--outcome <outcome>', 'success | invalidHost | invalidData | denied')
    .option('--limit <n>', 'at most this many, newest', '1000')
    .option('--json', 'one JSON array')
    .option('--jsonl', 'JSON lines')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = eventQuery(o, { vm: 'vm', outcome: 'outcome' });
        const events = (await call<Record<string, unknown>[]>(o.state as string | undefined, `/events?${q}`)).map((e) =>
          withIsoTimes(e, ['at']),
        );
        printEvents(o, events, () => events.map((e) => ({ ...e, edition: e.editionCode ?? e.edition })), [
          'at',
          'event',
          'vmUuid',
          'machineId',
          'edition',
          'outcome',
          'reason',
          'code',
          'address',
          'mac',
        ]);
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
