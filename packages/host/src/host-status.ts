import { defaults } from '@volact/protocol';
import type { HostActivation } from './host-activation.js';
import type { HostStore } from './host-store.js';
import type { MachineCounter } from './machine-counter.js';
import type { HostSettings } from './settings.js';

/** The parts of the host a status is read from. */
export type StatusSources = {
  settings: HostSettings;
  activation: HostActivation;
  tallies: ReadonlyMap<string, number>;
  counter: MachineCounter;
  store: HostStore;
};

/** The host's `-dlv`: count against thresholds, port, intervals, requests by outcome and state. */
export function hostStatus(now: number, hostName: string, from: StatusSources) {
  const { settings, activation } = from;
  const tallies = Object.fromEntries(from.tallies);
  const pick = (prefix: string) =>
    Object.fromEntries(
      Object.entries(tallies)
        .filter(([k]) => k.startsWith(prefix))
        .map(([k, v]) => [k.slice(prefix.length), v]),
    );
  return {
    hostName,
    hostId: [...activation.certFor.values()][0]?.hostId ?? null,
    activated: activation.certFor.size > 0,
    currentCount: from.counter.count(now),
    thresholds: { client: defaults.clientThreshold, server: defaults.serverThreshold },
    countWindowDays: defaults.countWindowMs / 86_400_000,
    port: settings.port,
    listenAddress: settings.listenAddress,
    servedNetworks: settings.servedNetworks,
    retryMinutes: settings.retryMinutes,
    renewalMinutes: settings.renewalMinutes,
    priority: settings.priority,
    authorityUrl: settings.authorityUrl,
    keys: activation.keys().map((k) => ({
      id: k.id,
      partialKey: k.partial,
      group: k.groupNumber,
      activated: k.certificate !== null,
      activatedAt: k.activatedAt,
    })),
    editions:
      activation.catalog?.editions
        .filter((e) => activation.certFor.has(e.number))
        .map((e) => ({ number: e.number, code: e.code, name: e.name, kind: e.kind })) ?? [],
    requests: {
      total: tallies.total ?? 0,
      failed: tallies.failed ?? 0,
      byOutcome: pick('outcome:'),
      byLicenseState: pick('state:'),
    },
    machinesWithSeveralFingerprints: from.store.machinesWithSeveralFingerprints(),
    now,
  };
}
