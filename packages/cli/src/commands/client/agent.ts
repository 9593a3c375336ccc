import type { Command } from 'commander';
import { fail } from '../../output.js';
import { processClock } from '@volact/io';
import { clientPackage } from './open-client.js';

/** `volact agent`: keeps this machine activated. */
export function registerAgent(program: Command): void {
  program
    .command('agent')
    .description(
      'keep this machine activated: activate at start, retry every retry interval, renew every renewal interval',
    )
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .action(async (o: Record<string, string | undefined>) => {
      try {
        const { Client, runAgent, stateDir } = await clientPackage();
        const clock = processClock();
        let stopped = false;
        process.on('SIGTERM', () => (stopped = true));
        process.on('SIGINT', () => (stopped = true));
        await runAgent(new Client({ dir: stateDir(o.state), clock }), clock, {
          sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
          log: (l) => process.stdout.write(l + '\n'),
          stop: () => stopped,
          pollMs: 5_000,
        });
      } catch (err) {
        fail(err, false);
      }
    });
}
