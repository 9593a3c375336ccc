import type { Command } from 'commander';
import { applySettingsFile, configurable } from '../../config-file.js';
import { reloadOnHangup } from '../../process-signals.js';
import { accessLogOn, accessLogOption, serverLog, stopOnSignals } from '../../server-log.js';
import { defaults } from '@volact/protocol';
import { defaultStateDir } from '@volact/io';
import { fail } from '../../output.js';
import { processClock } from '@volact/io';
import { readRootPem } from '../host/inputs.js';

export const defaultHypervisorDir = () => defaultStateDir('hypervisor');

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/** `volact hypervisor serve`: the agent code loads only here. */
export function registerServe(cmd: Command): void {
  const serve = cmd
    .command('serve')
    .description('run the hypervisor agent: guest channel and admin socket (DIR/admin.sock)')
    .option(
      '--state <dir>',
      'agent state directory (env VOLACT_HYPERVISOR_DIR; default per platform, docs/operations.md)',
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
    .option(...accessLogOption);
  configurable(serve, 'hypervisor').action(async (_o: unknown, self: Command) => {
    try {
      applySettingsFile(self, 'hypervisor');
      const o = self.opts<Record<string, string | string[] | undefined>>();
      const accessLog = accessLogOn(o.accessLog);
      const { runAgent } = await import('@volact/hypervisor');
      const log = serverLog('hypervisor');
      const onReload = reloadOnHangup(log);
      const running = await runAgent({
        dir: (o.state as string | undefined) ?? defaultHypervisorDir(),
        clock: processClock(),
        rootPem: o.root ? readRootPem(o.root as string) : undefined,
        authorityUrl: o.authority as string | undefined,
        inventory: o.inventory as string | undefined,
        listen: o.listen as string[] | undefined,
        bridges: o.bridge as string[] | undefined,
        name: o.name as string | undefined,
        log,
        accessLog,
      });
      const where = running.listening();
      log.info(
        {
          port: where[0]?.port,
          listen: where.map((l) => (l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`)),
          name: running.agent.name,
          id: running.agent.id,
          activated: running.agent.activated,
          inventory: running.agent.inventory.source,
          adminSocket: running.socketPath,
          accessLog,
        },
        'listening',
      );
      stopOnSignals(log, running.close);
      onReload(); // nothing to re-read: the inventory is watched, settings come through slmgr
    } catch (err) {
      fail(err, false);
    }
  });
}
