import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { VolactError, defaults } from '@volact/protocol';
import type { ClientState } from './state.js';
import { targetLabel, type HostTarget } from './transport.js';

/** Where Linux shows the SMBIOS product UUID, which a hypervisor sets to the VM's UUID (root only). */
export const PRODUCT_UUID_FILE = '/sys/class/dmi/id/product_uuid';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * This guest's VM UUID, lower case, read now (a license copied to another VM must not follow it).
 * VOLACT_VM_UUID_FILE names a file holding it instead: for tests, and for a product that reads
 * its state unprivileged while the SMBIOS file is readable by root only.
 */
export function readVmUuid(env: NodeJS.ProcessEnv): string {
  const file = env.VOLACT_VM_UUID_FILE || PRODUCT_UUID_FILE;
  let text: string;
  try {
    text = readFileSync(file, 'utf8').slice(0, 256);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason =
      code === 'EACCES' || code === 'EPERM'
        ? 'permission denied (the file is readable by root only)'
        : code === 'ENOENT'
          ? 'there is no such file (not a virtual machine, or no SMBIOS)'
          : (code ?? String(err));
    throw new VolactError('VM_UUID_UNREADABLE', { file, reason });
  }
  const uuid = text.trim().toLowerCase();
  if (!UUID.test(uuid))
    throw new VolactError('VM_UUID_UNREADABLE', { file, reason: 'it does not hold a UUID (8-4-4-4-12 hex digits)' });
  return uuid;
}

/**
 * The VM UUID a stored license is checked against. An unprivileged reader (the publisher's
 * product asking "am I activated?") may not read the SMBIOS file; it then checks the license
 * against the UUID the grant names, which root read and sent at activation. A license copied
 * into another VM still fails there: it is bound to the machine ID and fingerprint too, and the
 * next -ato, which runs as root, reads the UUID again.
 */
export function vmUuidForReading(env: NodeJS.ProcessEnv, granted: string, read = readVmUuid): string {
  try {
    return read(env);
  } catch (err) {
    if (err instanceof VolactError && /permission denied/.test(String(err.params.reason))) return granted;
    throw err;
  }
}

/**
 * A hypervisor agent address as typed: HOST, HOST:PORT, IPV4[:PORT], [IPV6][:PORT] (a link-local
 * IPv6 address may name its interface, [fe80::1%eth0]:1689). The port defaults to the agent's.
 */
export function parseAgentAddress(spec: string): HostTarget {
  const bad = () =>
    new VolactError('USAGE', {
      detail: `${spec} is not a hypervisor agent address: give HOST[:PORT] or [IPV6][:PORT], e.g. ${defaults.vmAgentAddress}:${defaults.vmAgentPort}`,
    });
  const bracket = /^\[([^\]]+)\](?::(\d*))?$/.exec(spec);
  const plain = /^([^:[\]]+)(?::(\d*))?$/.exec(spec);
  const [host, portText] = bracket ? [bracket[1]!, bracket[2]] : plain ? [plain[1]!, plain[2]] : [undefined, undefined];
  if (host === undefined || portText === '') throw bad();
  if (bracket ? isIP(host) !== 6 : isIP(host) === 0 && !/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) throw bad();
  if (portText === undefined) return { host, port: defaults.vmAgentPort };
  const port = Number(portText);
  if (portText.length > 5 || port < 1 || port > 65535)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'hypervisor agent port', min: 1, max: 65535, value: portText });
  return { host, port };
}

export type AgentSource = 'VOLACT_VM_AGENT' | 'setting' | 'default';

/** The agent a VM-key guest asks: VOLACT_VM_AGENT, else `volact client vm-agent`, else the link-local default. */
export function vmAgentOf(
  s: ClientState,
  env: NodeJS.ProcessEnv,
): { target: HostTarget; label: string; from: AgentSource } {
  const fromEnv = env.VOLACT_VM_AGENT;
  const [target, from]: [HostTarget, AgentSource] = fromEnv
    ? [parseAgentAddress(fromEnv), 'VOLACT_VM_AGENT']
    : s.vmAgent
      ? [s.vmAgent, 'setting']
      : [{ host: defaults.vmAgentAddress, port: defaults.vmAgentPort }, 'default'];
  return { target, label: targetLabel(target.host, target.port), from };
}
