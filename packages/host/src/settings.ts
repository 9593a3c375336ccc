import { isIP } from 'node:net';
import { VolactError, defaultServedNetworks, defaults } from '@volact/protocol';
import { networkFilter } from './cidr.js';
import { defaultDnsConfig, serverOf, type DnsConfig } from './dns-publisher.js';

/** Host settings, stored in the host's database so they survive restarts. */
export type HostSettings = {
  port: number;
  /** `host serve --listen`: stored once bound, like the port. */
  listenAddress: string;
  /** `host serve --name`, shown to clients and the default SRV target; null: the machine's name. */
  hostName: string | null;
  retryMinutes: number;
  renewalMinutes: number;
  authorityUrl: string | null;
  servedNetworks: string[];
  dns: DnsConfig;
  /** `-spri` low, `-cpri` normal (the default): the host process's priority, as on a KMS host. */
  priority: ProcessPriority;
};

export type ProcessPriority = 'normal' | 'low';

/** The settings in force: the stored ones (HostStore.settings), the defaults for the rest. */
export function settingsFrom(stored: Record<string, unknown>): HostSettings {
  return {
    port: (stored.port as number | undefined) ?? defaults.port,
    listenAddress: (stored.listenAddress as string | undefined) ?? '::',
    hostName: (stored.hostName as string | undefined) ?? null,
    retryMinutes: (stored.retryMinutes as number | undefined) ?? defaults.retryMinutes,
    renewalMinutes: (stored.renewalMinutes as number | undefined) ?? defaults.renewalMinutes,
    authorityUrl: (stored.authorityUrl as string | undefined) ?? null,
    servedNetworks: (stored.servedNetworks as string[] | undefined) ?? [...defaultServedNetworks],
    dns: { ...defaultDnsConfig, ...((stored.dns as Partial<DnsConfig> | undefined) ?? {}) },
    priority: stored.priority === 'low' ? 'low' : 'normal',
  };
}

/** `--name`: what clients and the authority see (answers carry 1-128 characters); '' means the machine's name. */
export function checkHostName(name: string): void {
  if (name.length > 128 || /[\p{Cc}\p{Cf}]/u.test(name))
    throw new VolactError('USAGE', {
      detail: `--name must be 1 to 128 characters without control characters (or '' for the machine's name); got ${JSON.stringify(name.slice(0, 40))}${name.length > 40 ? '…' : ''}`,
    });
}

/** `--listen`: an IP address of this machine, or :: or 0.0.0.0 for all of them. */
export function checkListenAddress(address: string): void {
  if (isIP(address) === 0)
    throw new VolactError('USAGE', {
      detail: `--listen ${address} is not an IP address; give one of this machine's addresses, or :: (all, IPv4 and IPv6) or 0.0.0.0 (all IPv4)`,
    });
}

/** `--serve-networks`: at least one network, each one well formed. */
export function checkServedNetworks(cidrs: string[]): void {
  if (cidrs.length === 0) throw new VolactError('USAGE', { detail: 'give at least one network to serve' });
  networkFilter(cidrs);
}

/** The settings `-sai`, `-sri` and `-sprt` change. */
export type NumericSetting = 'retryMinutes' | 'renewalMinutes' | 'port';

/** Range check for `-sai`, `-sri`, `-sprt` (15 minutes to 30 days, as on a KMS host). */
export function checkSetting(name: NumericSetting, value: number): void {
  const ranges = {
    retryMinutes: [defaults.intervalMinMinutes, defaults.intervalMaxMinutes],
    renewalMinutes: [defaults.intervalMinMinutes, defaults.intervalMaxMinutes],
    port: [1, 65535],
  } as const;
  const [min, max] = ranges[name];
  if (!Number.isInteger(value) || value < min || value > max)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name, min, max, value: String(value) });
}

/** The DNS settings after `change` to `current`, checked; nothing is stored. */
export function checkDns(current: DnsConfig, change: Partial<DnsConfig>): DnsConfig {
  const next: DnsConfig = { ...current, ...change };
  const name =
    /^(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)*[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.?$/;
  for (const [what, value] of [
    ['--dns-domain', next.domain],
    ['--dns-name', next.target],
    ...next.extraDomains.map((d) => ['--dns-extra', d.domain] as const),
  ] as const) {
    if (value !== null && !name.test(value))
      throw new VolactError('USAGE', { detail: `${what} ${value} is not a DNS name` });
  }
  if (next.server !== null) serverOf(next.server);
  if (next.address !== null && isIP(next.address) === 0)
    throw new VolactError('USAGE', { detail: `--dns-address ${next.address} is not an IP address` });
  for (const [what, value, max] of [
    ['priority', next.priority, 65535],
    ['weight', next.weight, 65535],
    ['ttl', next.ttl, 604800],
    ...next.extraDomains.flatMap(
      (d) =>
        [
          ['priority', d.priority, 65535],
          ['weight', d.weight, 65535],
        ] as const,
    ),
  ] as const) {
    if (!Number.isInteger(value) || value < 0 || value > max)
      throw new VolactError('VALUE_OUT_OF_RANGE', { name: `DNS ${what}`, min: 0, max, value });
  }
  return next;
}
