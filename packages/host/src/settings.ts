import { isIP } from 'node:net';
import { VolactError, defaultServedNetworks, defaults } from '@volact/protocol';
import { defaultDnsConfig, type DnsConfig } from './dns-publisher.js';

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
};

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
  };
}

/** `--name`: what clients and the authority see (answers carry 1-128 characters); '' means the machine's name. */
export function checkHostName(name: string): void {
  if (name.length > 128 || /[\p{Cc}\p{Cf}]/u.test(name)) throw new VolactError('USAGE', { detail: `--name must be 1 to 128 characters without control characters (or '' for the machine's name); got ${JSON.stringify(name.slice(0, 40))}${name.length > 40 ? '…' : ''}` });
}

/** `--listen`: an IP address of this machine, or :: or 0.0.0.0 for all of them. */
export function checkListenAddress(address: string): void {
  if (isIP(address) === 0) throw new VolactError('USAGE', { detail: `--listen ${address} is not an IP address; give one of this machine's addresses, or :: (all, IPv4 and IPv6) or 0.0.0.0 (all IPv4)` });
}
