import type { Command } from 'commander';
import { VolactError, defaults } from '@volact/protocol';
import { emit, fail } from '../../output.js';
import { clientPackage, openClient } from './open-client.js';

/** `volact client identity`, `dns-server` and `vm-agent`: settings of this machine beyond slmgr. */
export function registerSettings(cmd: Command): void {
  cmd
    .command('identity')
    .argument('[name]', 'identity for a VDI pool member or container (stable across rebuilds)')
    .option('--clear', 'go back to the OS machine identity')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .description('set the machine identity explicitly (VDI pools, containers); gives a stable machine ID')
    .action(async (name: string | undefined, o: Record<string, string | boolean | undefined>) => {
      try {
        if (!name && !o.clear) throw new VolactError('USAGE', { detail: 'give an identity name, or --clear' });
        if (name && !/^[A-Za-z0-9._:-]{1,128}$/.test(name))
          throw new VolactError('USAGE', { detail: 'an identity is 1-128 letters, digits, and . _ : -' });
        const s = (await openClient(o.state as string | undefined)).setIdentity(o.clear ? null : name!);
        emit(
          Boolean(o.json),
          { machineId: s.machine.id, identity: s.machine.identity },
          () =>
            `Machine ID is now ${s.machine.id}${s.machine.identity ? ` (identity ${s.machine.identity})` : ''}. Activate again with volact slmgr -ato.`,
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  cmd
    .command('dns-server')
    .argument(
      '[server]',
      'IPV4[:PORT] or [IPV6][:PORT] of the DNS server that has the _volact._tcp records (port 53 by default)',
    )
    .option('--clear', "go back to the system's resolver (/etc/resolv.conf)")
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .description(
      "the DNS server asked for activation hosts' SRV records and addresses (split-horizon or lab zones); default: the system's resolver",
    )
    .action(async (server: string | undefined, o: Record<string, string | boolean | undefined>) => {
      try {
        if (server === undefined ? !o.clear : o.clear)
          throw new VolactError('USAGE', { detail: 'give a DNS server (IPV4[:PORT] or [IPV6]:PORT), or --clear' });
        const s = (await openClient(o.state as string | undefined)).setDnsServer(server ?? null);
        const set = s.discovery.dnsServer;
        emit(Boolean(o.json), { dnsServer: set }, () =>
          set
            ? `DNS server for finding activation hosts set to ${set} successfully.`
            : "DNS server cleared successfully; activation hosts are found through the system's resolver.",
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  cmd
    .command('vm-agent')
    .argument('[address]', 'HOST[:PORT] or [IPV6][:PORT] of the hypervisor agent (port 1689 by default)')
    .option('--default', 'go back to the link-local default (169.254.16.88:1689)')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .description(
      'the hypervisor agent a guest with a VM key asks for automatic VM activation (env VOLACT_VM_AGENT overrides it); default: 169.254.16.88:1689 on the guest bridge',
    )
    .action(async (address: string | undefined, o: Record<string, string | boolean | undefined>) => {
      try {
        if (address === undefined ? !o.default : o.default)
          throw new VolactError('USAGE', { detail: 'give the agent address HOST[:PORT], or --default' });
        const s = (await openClient(o.state as string | undefined)).setVmAgent(address ?? null);
        const { targetLabel } = await clientPackage();
        const set = s.vmAgent ? targetLabel(s.vmAgent.host, s.vmAgent.port) : null;
        emit(Boolean(o.json), { vmAgent: set }, () =>
          set
            ? `Hypervisor agent address set to ${set} successfully.`
            : `Hypervisor agent address cleared successfully; this guest asks ${defaults.vmAgentAddress}:${defaults.vmAgentPort}.`,
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
