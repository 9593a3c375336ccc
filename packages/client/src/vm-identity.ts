import { chmodSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { VolactError, defaults } from '@volact/protocol';
import { ensureDir, writeOrFail, type ClientState } from './state.js';
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

/** Where Linux shows an ID that is new at every boot. */
export const BOOT_ID_FILE = '/proc/sys/kernel/random/boot_id';

/** The record of the VM UUID root last read, for unprivileged readers (in the state directory, mode 0644). */
export const VM_IDENTITY_FILE = 'vm-identity.json';

/** How this machine's VM UUID and boot ID are read: the system's, or a test's. */
export type VmIdentitySource = {
  /** The VM UUID read now; VM_UUID_UNREADABLE when it cannot be. */
  readUuid: (env: NodeJS.ProcessEnv) => string;
  /** This boot's ID, or null when it cannot be read. */
  bootId: () => string | null;
};

export function readBootId(): string | null {
  try {
    return readFileSync(BOOT_ID_FILE, 'utf8').slice(0, 256).trim() || null;
  } catch {
    return null;
  }
}

export const systemVmIdentity: VmIdentitySource = { readUuid: readVmUuid, bootId: readBootId };

/** The VM UUID could not be read for lack of permission (and not because there is no SMBIOS). */
export function isPermissionDenied(err: unknown): boolean {
  return (
    err instanceof VolactError &&
    err.code === 'VM_UUID_UNREADABLE' &&
    /permission denied/.test(String(err.params.reason))
  );
}

/**
 * The VM UUID read now, recorded with this boot's ID in vm-identity.json so that unprivileged
 * readers can check a stored grant against it until the next boot (see vmUuidForReading).
 * Without a boot ID nothing is recorded: such a record could never be trusted.
 */
export function readAndRecordVmUuid(dir: string, env: NodeJS.ProcessEnv, source = systemVmIdentity): string {
  const vmUuid = source.readUuid(env);
  const bootId = source.bootId();
  if (bootId) {
    const file = join(dir, VM_IDENTITY_FILE);
    const text = JSON.stringify({ vmUuid, bootId }) + '\n';
    let old: string | null = null;
    try {
      old = readFileSync(file, 'utf8');
    } catch {
      old = null;
    }
    if (old !== text) {
      ensureDir(dir);
      writeOrFail(dir, file, text, 0o644);
      chmodSync(file, 0o644); // world-readable whatever the umask: it holds nothing secret
    }
  }
  return vmUuid;
}

/** A stored VM license cannot be checked against this machine's VM UUID by this (unprivileged) reader. */
export class VmUuidUnverifiable extends VolactError {}

/**
 * The VM UUID a stored license is checked against: the one read now. An unprivileged reader (the
 * publisher's product asking "am I activated?") may not read the SMBIOS file, which is root's
 * only. It then takes the UUID root recorded in vm-identity.json (-ato, and the agent at every
 * start), but only when that record was written in this boot (its boot_id is the current one):
 * a state directory carried to a clone or another machine, or kept across a reboot into other
 * hardware, brings a record of another boot. With no record of this boot (or no readable
 * boot_id) the license cannot be verified and counts as none until root reads the UUID again;
 * the UUID the grant names is never taken on its own word. A missing SMBIOS file (no VM) or a
 * malformed one stays VM_UUID_UNREADABLE.
 */
export function vmUuidForReading(dir: string, env: NodeJS.ProcessEnv, source = systemVmIdentity): string {
  try {
    return source.readUuid(env);
  } catch (err) {
    if (!isPermissionDenied(err)) throw err;
    const file = (err as VolactError).params.file ?? PRODUCT_UUID_FILE;
    const bootId = source.bootId();
    const record = readRecord(join(dir, VM_IDENTITY_FILE));
    const why = !bootId
      ? `this boot's ID (${BOOT_ID_FILE}) cannot be read`
      : !record
        ? `root has not recorded it in ${join(dir, VM_IDENTITY_FILE)}`
        : record.bootId !== bootId
          ? `${join(dir, VM_IDENTITY_FILE)} was recorded in another boot`
          : null;
    if (why === null) return record!.vmUuid;
    throw new VmUuidUnverifiable('VM_UUID_UNREADABLE', {
      file,
      reason: `permission denied (the file is readable by root only), and ${why}`,
    });
  }
}

function readRecord(file: string): { vmUuid: string; bootId: string } | null {
  try {
    const r = JSON.parse(readFileSync(file, 'utf8').slice(0, 4096)) as { vmUuid?: unknown; bootId?: unknown };
    return typeof r.vmUuid === 'string' && UUID.test(r.vmUuid) && typeof r.bootId === 'string' && r.bootId
      ? { vmUuid: r.vmUuid, bootId: r.bootId }
      : null;
  } catch {
    return null;
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
