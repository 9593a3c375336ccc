import { DAY, HOUR, MINUTE } from './clock.js';

/** Behaviour defaults, as on a Windows KMS host (DESIGN.md, "Behaviour defaults"). */
export const defaults = {
  clientThreshold: 25,
  serverThreshold: 5,
  countWindowMs: 30 * DAY,
  validityMs: 180 * DAY,
  renewalMinutes: 7 * 24 * 60,
  retryMinutes: 120,
  intervalMinMinutes: 15,
  intervalMaxMinutes: 30 * 24 * 60,
  initialGraceMs: 30 * DAY,
  ootGraceMs: 30 * DAY,
  maxClockSkewMs: 4 * HOUR,
  hostKeyMaxHosts: 6,
  hostKeyMaxActivations: 10,
  rearmLimit: 5,
  /** Directory activation: valid 180 days (validityMs), read again every 7 days. */
  directoryRenewalMinutes: 7 * 24 * 60,
  directoryObjectsPerPage: 100,
  port: 1688,
  /** Automatic VM activation: a guest grant is valid 7 days, renewed daily, retried hourly. */
  vmValidityMs: 7 * DAY,
  vmRenewalMinutes: 24 * 60,
  vmRetryMinutes: 60,
  /**
   * Where guests find their hypervisor agent: a link-local address on the guest bridge (as cloud
   * metadata services use 169.254.169.254), on a port apart from an activation host's 1688.
   */
  vmAgentAddress: '169.254.16.88',
  vmAgentPort: 1689,
  minute: MINUTE,
} as const;

/** Networks an activation host serves unless told otherwise: loopback and the private ranges. */
export const defaultServedNetworks = [
  '127.0.0.0/8',
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '169.254.0.0/16',
  '::1/128',
  'fc00::/7',
  'fe80::/10',
] as const;

export type EditionKind = 'client' | 'server';

export function thresholdFor(kind: EditionKind): number {
  return kind === 'server' ? defaults.serverThreshold : defaults.clientThreshold;
}
