import type { Command } from 'commander';
import { eventTable } from '../../event-query.js';
import { emit, fail } from '../../output.js';
import { clientPackage } from './open-client.js';

/** `volact client events`: what this machine asked and was answered. */
export function registerEvents(cmd: Command): void {
  cmd
    .command('events')
    .description('client events: 12288 request sent, 12289 answer processed, machine ID renewals')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--limit <n>', 'newest N', '100')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const { readEvents, stateDir } = await clientPackage();
        const events = readEvents(
          stateDir(o.state as string | undefined),
          Math.max(1, Math.min(Number(o.limit) || 100, 100_000)),
        );
        emit(Boolean(o.json), events, () =>
          eventTable(events, ['at', 'event', 'machineId', 'licenseState', 'host', 'outcome', 'count', 'required']),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
