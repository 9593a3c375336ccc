import type { Catalog, HashedParts, UsageReport } from '@volact/protocol';

/** A host key activates activation hosts; a datacenter key, hypervisor agents (same limits, same table). */
export type SlotKeyClass = 'host' | 'datacenter';

/** What the authority keeps. One interface, so PostgreSQL can stand beside SQLite (issue 3). */
export type HostKeyRow = {
  id: string;
  keyHash: string;
  partial: string;
  groupCode: string;
  keyClass: SlotKeyClass;
  maxHosts: number;
  maxActivations: number;
  usedActivations: number;
  hostsUsed: number;
  createdAt: number;
};

/** A host holding a slot of a host or datacenter key (GET /v1/admin/hosts). */
export type KeyHostRow = {
  hostId: string;
  hostName: string;
  firstActivatedAt: number;
  lastActivatedAt: number;
  activations: number;
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

export type MakRow = {
  id: string;
  keyHash: string;
  partial: string;
  edition: number;
  maxActivations: number;
  usedActivations: number;
  createdAt: number;
};

/** `iidHash`: an offline confirmation's installation ID; one seen before is a retry and counts nothing. */
export type MakActivationInput = {
  makId: string;
  machineId: string;
  parts: HashedParts;
  now: number;
  iidHash?: string;
};

/** Outcomes of a MAK activation. `repeat`: the same machine within tolerance, nothing used. */
export type MakActivationOutcome =
  | { kind: 'activated' | 'reactivated' | 'repeat'; used: number; limit: number }
  | { kind: 'limit'; used: number; limit: number };

export type IncreaseRequest = {
  id: string;
  keyKind: 'host-key' | 'mak';
  keyId: string;
  what: 'hosts' | 'activations';
  amount: number;
  reason: string;
  state: 'pending' | 'approved' | 'rejected';
  granted: number | null;
  note: string | null;
  createdAt: number;
  decidedAt: number | null;
  steps: { step: string; at: number; detail: string }[];
};

/** Who did an administrative write, and what: kept in the audit log in the write's transaction. */
export type Audit = { actor: string; action: string; target: string; detail: string; at: number };
export type AuditRow = Audit & { seq: number };

export const tokenScopes = ['read', 'issue', 'approve', 'admin'] as const;
export type TokenScope = (typeof tokenScopes)[number];
export type TokenRow = {
  id: string;
  name: string;
  scopes: TokenScope[];
  tokenHash: string;
  createdAt: number;
  revokedAt: number | null;
};

/** A usage report as received: its ID and hash (of the signed report), who sent it up, and its verified content. */
export type UsageReportRow = {
  id: string;
  hash: string;
  hostId: string;
  groups: string[];
  from: string;
  to: string;
  generatedAt: number;
  receivedAt: number;
  receivedBy: string;
  report: UsageReport;
};

export interface AuthorityStore {
  insertToken(row: Omit<TokenRow, 'revokedAt'>, audit: Audit): Promise<void>;
  findToken(id: string): Promise<TokenRow | undefined>;
  listTokens(): Promise<TokenRow[]>;
  /** Revokes a token once; false when there is no such live token. */
  revokeToken(id: string, audit: Audit): Promise<boolean>;
  auditLog(limit: number): Promise<AuditRow[]>;
  createIncreaseRequest(r: Omit<IncreaseRequest, 'state' | 'granted' | 'note' | 'decidedAt' | 'steps'>): Promise<void>;
  increaseRequests(state?: IncreaseRequest['state']): Promise<IncreaseRequest[]>;
  increaseRequest(id: string): Promise<IncreaseRequest | undefined>;
  /**
   * Decides a pending request once: approval raises the key's limit by `granted` in the same
   * transaction. Returns the request after the decision, or undefined when it was not pending.
   */
  decideIncreaseRequest(
    id: string,
    decision: { approve: boolean; granted: number; note: string | null; now: number },
    audit: Audit,
  ): Promise<IncreaseRequest | undefined>;
  /** The hosts holding slots of a host or datacenter key, most recently activated first. */
  keyHosts(hostKeyId: string): Promise<KeyHostRow[]>;
  /** Frees the host slot of a decommissioned host; false when that host holds no slot. */
  releaseHost(hostKeyId: string, hostId: string, audit: Audit): Promise<boolean>;
  insertMak(row: Omit<MakRow, 'usedActivations'>, audit: Audit): Promise<void>;
  findMakByHash(keyHash: string): Promise<MakRow | undefined>;
  listMaks(): Promise<MakRow[]>;
  /**
   * Activates a machine with a MAK: a machine already activated on hardware the tolerance rule
   * calls the same uses nothing; a new machine, or one changed beyond tolerance, uses one
   * activation, atomically against the limit.
   */
  activateMak(input: MakActivationInput, audit?: Audit): Promise<MakActivationOutcome>;
  saveCatalog(catalog: Catalog, jws: string, audit: Audit): Promise<void>;
  latestCatalog(): Promise<{ catalog: Catalog; jws: string } | undefined>;
  insertHostKey(row: Omit<HostKeyRow, 'usedActivations' | 'hostsUsed'>, audit: Audit): Promise<void>;
  findHostKeyByHash(keyHash: string): Promise<HostKeyRow | undefined>;
  listHostKeys(): Promise<HostKeyRow[]>;
  /**
   * Activates a host atomically, with the limits enforced by the database so they hold across
   * nodes: at most `maxHosts` distinct host public keys and `maxActivations` activations per
   * key; a repeated request ID returns the stored answer. `answer` runs inside the transaction
   * with the activation number and the usage after it.
   */
  activateHost(
    input: HostActivationInput,
    answer: (activation: number, usage: Usage) => string,
    audit?: Audit,
  ): Promise<HostActivationOutcome>;
  /** Counts one request in a rate bucket's window and returns the hits so far (atomic across nodes). */
  hit(bucket: string, windowStart: number): Promise<number>;
  /** Drops rate windows that ended before `before`. */
  pruneRateLimits(before: number): Promise<void>;
  /** Whether a host key of this authority ever activated the host with this public key. */
  hostActivated(hostPublicKey: string): Promise<boolean>;
  /** Stores a verified usage report once (by its hash); `stored` is false when it was there already. */
  saveUsageReport(row: UsageReportRow, file: string, audit: Audit): Promise<{ stored: boolean; row: UsageReportRow }>;
  /** Usage reports received, newest first. */
  usageReports(limit: number): Promise<UsageReportRow[]>;
  /** Row counts per table, for operators and for tests that check bad input wrote nothing. */
  rowCounts(): Promise<Record<string, number>>;
  close(): Promise<void>;
}
