import type { Command } from 'commander';
import { defaults } from '@volact/protocol';
import { defaultStateDir } from '@volact/io';
import { fail } from '../../output.js';
import { processClock } from '../../process-clock.js';
import { readRootPem } from '../host/inputs.js';

export const defaultHypervisorDir = () => process.env.VOLACT_HYPERVISOR_DIR ?? defaultStateDir('hypervisor');

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `volact hypervisor serve`: the agent code loads only here. */
export function registerServe(cmd: Command): void {
  cmd
    .command('serve')
    .description('run the hypervisor agent: guest channel and admin socket (DIR/admin.sock; a named pipe on Windows)')
    .option(
      '--state <dir>',
      'agent state directory (env VOLACT_HYPERVISOR_DIR, default /var/lib/volact/hypervisor, on Windows %ProgramData%\\volact\\hypervisor)',
    )
    .option('--root <file>', "the publisher's root.pub, or its offline bundle, to pin (needed the first time)")
    .option('--authority <url>', 'authority URL for the agent activation (-ato)')
    .option(
      '--inventory <spec>',
      'where the VMs are listed: static:FILE (JSON) or libvirt[:URI] (default qemu:///system)',
    )
    .option(
      '--listen <address:port>',
      `guest channel address, repeatable (default ${defaults.vmAgentAddress}:${defaults.vmAgentPort})`,
      collect,
    )
    .option('--bridge <name>', 'guest bridge to put each listen address on (ip addr add), repeatable', collect)
    .option('--name <name>', "the agent's name shown to guests (default: the machine name; '' goes back to it)")
    .action(async (o: Record<string, string | string[] | undefined>) => {
      try {
        const { runAgent } = await import('@volact/hypervisor');
        const running = await runAgent({
          dir: (o.state as string | undefined) ?? defaultHypervisorDir(),
          clock: processClock(),
          rootPem: o.root ? readRootPem(o.root as string) : undefined,
          authorityUrl: o.authority as string | undefined,
          inventory: o.inventory as string | undefined,
          listen: o.listen as string[] | undefined,
          bridges: o.bridge as string[] | undefined,
          name: o.name as string | undefined,
        });
        const where = running
          .listening()
          .map((l) => (l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`))
          .join(', ');
        process.stdout.write(
          `hypervisor agent ${running.agent.name} (${running.agent.id}, ${running.agent.activated ? 'activated' : 'NOT activated'}) listening on ${where}, inventory ${running.agent.inventory.source} (admin socket ${running.socketPath})\n`,
        );
        const stop = () => void running.close().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (err) {
        fail(err, false);
      }
    });
}
