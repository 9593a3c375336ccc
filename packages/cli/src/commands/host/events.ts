import type { Command } from 'commander';
import { adminCall } from '../../admin-client.js';
import { eventQuery, printEvents } from '../../event-query.js';
import { emit, fail, table } from '../../output.js';
import { defaultHostDir } from './inputs.js';

/** `volact host events` and `volact host machines`: what the running host has seen. */
export function registerEvents(cmd: Command): void {
  cmd
    .command('events')
    .description('requests handled (event 12290): machine ID, VM flag, license state, outcome')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--since <time>', 'ISO time')
    .option('--machine <id>', 'one machine ID')
    .option(
      '--outcome <outcome>',
      'activated | renewed | countInsufficient | editionNotCovered | clockSkew | notActivated',
    )
    .option('--limit <n>', 'at most this many, newest', '1000')
    .option('--json', 'one JSON array')
    .option('--jsonl', 'JSON lines')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = eventQuery(o, { machine: 'machine', outcome: 'outcome' });
        const events = await adminCall<Record<string, unknown>[]>(
          (o.state as string | undefined) ?? defaultHostDir(),
          'GET',
          `/events?${q}`,
        );
        printEvents(o, events, () => events, [
          'at',
          'event',
          'machineId',
          'vm',
          'licenseState',
          'edition',
          'outcome',
          'count',
          'required',
        ]);
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('machines')
    .description('machines seen, newest first')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--several-fingerprints', 'only machine IDs seen with several fingerprints (cloned images)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = new URLSearchParams({ limit: String(o.limit) });
        if (o.severalFingerprints) q.set('fingerprints', 'several');
        const rows = await adminCall<Record<string, unknown>[]>(
          (o.state as string | undefined) ?? defaultHostDir(),
          'GET',
          `/machines?${q}`,
        );
        emit(Boolean(o.json), rows, () =>
          table(rows, [
            'machineId',
            'machineName',
            'lastSeen',
            'requests',
            'edition',
            'vm',
            'licenseState',
            'lastOutcome',
            'fingerprints',
          ]),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
