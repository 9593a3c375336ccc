import type Database from 'better-sqlite3';
import { defaultServedNetworks, defaults } from '@volact/protocol';
import { defaultDnsConfig, type DnsConfig } from './dns-publisher.js';

/** Host settings, stored in the host's database so they survive restarts. */
export type HostSettings = {
  port: number;
  listenAddress: string;
  retryMinutes: number;
  renewalMinutes: number;
  authorityUrl: string | null;
  servedNetworks: string[];
  dns: DnsConfig;
};

export function readSettings(db: Database.Database): HostSettings {
  const stored = Object.fromEntries(
    (db.prepare('SELECT name, value FROM settings').all() as { name: string; value: string }[]).map((r) => [r.name, JSON.parse(r.value) as unknown]),
  );
  return {
    port: (stored.port as number | undefined) ?? defaults.port,
    listenAddress: (stored.listenAddress as string | undefined) ?? '::',
    retryMinutes: (stored.retryMinutes as number | undefined) ?? defaults.retryMinutes,
    renewalMinutes: (stored.renewalMinutes as number | undefined) ?? defaults.renewalMinutes,
    authorityUrl: (stored.authorityUrl as string | undefined) ?? null,
    servedNetworks: (stored.servedNetworks as string[] | undefined) ?? [...defaultServedNetworks],
    dns: { ...defaultDnsConfig, ...((stored.dns as Partial<DnsConfig> | undefined) ?? {}) },
  };
}

export function writeSetting(db: Database.Database, name: keyof HostSettings, value: unknown): void {
  db.prepare('INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value').run(name, JSON.stringify(value));
}
