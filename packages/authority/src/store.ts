import type { Catalog } from '@volact/protocol';

/** What the authority keeps. One interface, so PostgreSQL can stand beside SQLite (issue 3). */
export type HostKeyRow = {
  id: string;
  keyHash: string;
  partial: string;
  groupCode: string;
  maxHosts: number;
  maxActivations: number;
  usedActivations: number;
  hostsUsed: number;
  createdAt: number;
};

export type HostActivationInput = {
  hostKeyId: string;
  hostPublicKey: string;
  hostId: string;
  hostName: string;
  requestId: string;
  now: number;
};

export type Usage = { hostsUsed: number; hostsLimit: number; activationsUsed: number; activationsLimit: number };

/** Outcomes as values; the HTTP layer maps each to an answer. */
export type HostActivationOutcome =
  | { kind: 'activated' | 'reactivated' | 'retried'; answer: string }
  | { kind: 'hostLimit'; used: number; limit: number }
  | { kind: 'activationLimit'; used: number; limit: number }
  | { kind: 'requestConflict' };

export interface AuthorityStore {
  saveCatalog(catalog: Catalog, jws: string): void;
  latestCatalog(): { catalog: Catalog; jws: string } | undefined;
  insertHostKey(row: Omit<HostKeyRow, 'usedActivations' | 'hostsUsed'>): void;
  findHostKeyByHash(keyHash: string): HostKeyRow | undefined;
  listHostKeys(): HostKeyRow[];
  /**
   * Activates a host atomically: at most `maxHosts` distinct host public keys and
   * `maxActivations` activations per key; a repeated request ID returns the stored answer.
   * `answer` is called inside the transaction with the activation number and usage after it.
   */
  activateHost(input: HostActivationInput, answer: (activation: number, usage: Usage) => string): HostActivationOutcome;
  close(): void;
}
