/** The answers of the host console's API (/api/...), as the shared console contract gives them. */
export type HostKey = {
  id: string;
  partialKey: string;
  group: string;
  activated: boolean;
  activatedAt?: number | null;
};
export type LogState = {
  state: 'verified' | 'tampered' | 'unverified' | 'running';
  checkedAt: number | string | null;
  records: number;
  problem?: string;
};
export type Overview = {
  now: number;
  currentCount: number;
  thresholds: { client: number; server: number };
  countWindowDays: number;
  host: { activated: boolean; hostName: string; hostId: string; keys: HostKey[]; activationEndsAt?: number | null };
  machines: {
    total: number;
    licensed: number;
    grace: number;
    notification: number;
    unlicensed: number;
    expiringSoon: number;
    expiringSoonDays: number;
  };
  dns: {
    enabled: boolean;
    domains: {
      domain: string;
      server: string | null;
      published: boolean;
      lastPublishedAt: number | string | null;
      lastError: string | null;
    }[];
    consecutiveFailures: number;
  };
  log: LogState;
};
export type CountHistory = {
  days: number;
  points: { at: number | string; count: number }[];
  thresholds: { client: number; server: number };
};
export type Machine = {
  machineId: string;
  machineName: string | null;
  firstSeen: number | string;
  lastSeen: number | string;
  requests: number;
  edition: number | null;
  editionName: string | null;
  kind: 'client' | 'server' | null;
  vm: boolean;
  licenseState: string;
  lastOutcome: string | null;
  fingerprints: number;
  expiresAt: number | string | null;
};
export type MachinePage = { machines: Machine[]; nextCursor: string | null; total: number | null };
export type Status = {
  hostName: string;
  hostId: string;
  activated: boolean;
  retryMinutes: number;
  renewalMinutes: number;
  port: number;
  [k: string]: unknown;
};
