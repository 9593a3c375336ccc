import type {
  Catalog,
  Clock,
  DirectoryActivationAnswer,
  DirectoryActivationRequest,
  HostActivationAnswer,
  HostActivationRequest,
  IncreaseRequestBody,
  MakActivationAnswer,
  MakActivationRequest,
  OfflineBundle,
} from '@volact/protocol';
import { VolactError, issuerPurposes } from '@volact/protocol';
import type { AuthorityKeys } from './keys.js';
import type {
  AuditRow,
  AuthorityStore,
  HostKeyRow,
  IncreaseRequest,
  KeyHostRow,
  MakRow,
  TokenRow,
  TokenScope,
  UsageReportRow,
} from './store.js';
import { authenticate, createToken, revokeToken, type IssuedToken } from './verbs/admin-tokens.js';
import { activateDirectory, activateHost, activateHypervisor, releaseHost } from './verbs/host-activation.js';
import { decideIncrease, increaseStatus, requestIncrease } from './verbs/increase-requests.js';
import {
  issueDatacenterKey,
  issueHostKey,
  issueMak,
  type IssuedDatacenterKey,
  type IssuedHostKey,
  type IssuedMak,
} from './verbs/key-issuing.js';
import { activateMak } from './verbs/mak-activation.js';
import { confirmOffline, offlineBundle, type Confirmed } from './verbs/offline-confirmation.js';
import { SignedCatalog, importCatalog } from './verbs/signed-catalog.js';
import { receiveUsageReport, type ReceivedUsageReport } from './verbs/usage-reports.js';
import type { Actor, VerbContext } from './verbs/verb-context.js';

export type { IssuedToken } from './verbs/admin-tokens.js';
export type { IssuedDatacenterKey, IssuedHostKey, IssuedMak } from './verbs/key-issuing.js';
export type { Confirmed } from './verbs/offline-confirmation.js';
export type { ReceivedUsageReport } from './verbs/usage-reports.js';
export { keyHash, type Actor } from './verbs/verb-context.js';

/**
 * The publisher's authority: the verbs; storage and transport are injected. Each verb lives in
 * ./verbs/ with the others of its kind; this class is the one door the transports use.
 */
export class Authority {
  private readonly ctx: VerbContext;
  private readonly signedCatalog: SignedCatalog;

  constructor(keys: AuthorityKeys, store: AuthorityStore, clock: Clock) {
    this.signedCatalog = new SignedCatalog({ keys, store, clock });
    this.ctx = { keys, store, clock, catalog: () => this.signedCatalog.latest() };
  }

  /** The latest catalog, signed by the current catalog issuer (re-signed after a rotation). */
  catalog(): Promise<{ catalog: Catalog; jws: string; issuer: string }> {
    return this.signedCatalog.latest();
  }

  /**
   * Readiness: the database answers (a query every call), a catalog is imported and every
   * issuing key is loaded. Throws AUTHORITY_NOT_READY naming what is missing, or the database's error.
   */
  async ready(): Promise<void> {
    const missing = issuerPurposes.filter((p) => !this.ctx.keys.issuers.has(p));
    if (missing.length)
      throw new VolactError('AUTHORITY_NOT_READY', {
        detail: `no ${missing.join(', ')} issuing key (volact authority rotate-issuer --purpose ${missing[0]})`,
      });
    if (!(await this.ctx.store.latestCatalog()))
      throw new VolactError('AUTHORITY_NOT_READY', { detail: 'no catalog imported (volact authority import-catalog)' });
  }

  importCatalog(file: unknown, actor: Actor): Promise<Catalog> {
    return importCatalog(this.ctx, file, actor);
  }

  issueHostKey(
    groupCode: string,
    limits: { maxHosts?: number; maxActivations?: number },
    actor: Actor,
  ): Promise<IssuedHostKey> {
    return issueHostKey(this.ctx, groupCode, limits, actor);
  }

  /** Issues a datacenter key for a hypervisor agent: a group with guest editions, limits like a host key's. */
  issueDatacenterKey(
    groupCode: string,
    limits: { maxHosts?: number; maxActivations?: number },
    actor: Actor,
  ): Promise<IssuedDatacenterKey> {
    return issueDatacenterKey(this.ctx, groupCode, limits, actor);
  }

  /** Host and datacenter keys with their usage; `keyClass` tells them apart. */
  listHostKeys(): Promise<HostKeyRow[]> {
    return this.ctx.store.listHostKeys();
  }

  /** Issues a MAK for one edition with a number of activations (shown once; only its hash is kept). */
  issueMak(editionCode: string, activations: number, actor: Actor): Promise<IssuedMak> {
    return issueMak(this.ctx, editionCode, activations, actor);
  }

  listMaks(): Promise<MakRow[]> {
    return this.ctx.store.listMaks();
  }

  /** MAK activation: permanent, bound to the machine's (hashed) hardware. */
  activateMak(req: MakActivationRequest): Promise<MakActivationAnswer> {
    return activateMak(this.ctx, req);
  }

  /** A customer asks for more activations (MAK, host or datacenter key) or more hosts (host or datacenter key). */
  requestIncrease(req: IncreaseRequestBody): Promise<{ id: string; state: string }> {
    return requestIncrease(this.ctx, req);
  }

  /** The state of a request, for the customer who holds the key it is about. */
  increaseStatus(id: string, typedKey: string): Promise<IncreaseRequest> {
    return increaseStatus(this.ctx, id, typedKey);
  }

  increaseRequests(state?: IncreaseRequest['state']): Promise<IncreaseRequest[]> {
    return this.ctx.store.increaseRequests(state);
  }

  /** The publisher approves (with the amount granted, default the amount asked) or rejects a request. */
  decideIncrease(
    id: string,
    approve: boolean,
    amount: number | undefined,
    note: string | undefined,
    actor: Actor,
  ): Promise<IncreaseRequest> {
    return decideIncrease(this.ctx, id, approve, amount, note, actor);
  }

  /** The hosts holding slots of a host or datacenter key; REQUEST_UNKNOWN when there is no such key. */
  async keyHosts(hostKeyId: string): Promise<KeyHostRow[]> {
    const hosts = await this.ctx.store.keyHosts(hostKeyId);
    if (hosts.length === 0 && !(await this.ctx.store.listHostKeys()).some((k) => k.id === hostKeyId))
      throw new VolactError('REQUEST_UNKNOWN', { id: hostKeyId });
    return hosts;
  }

  /** The catalog as imported (setup keys included), and when it was issued; AUTHORITY_NOT_READY before an import. */
  async currentCatalog(): Promise<{ catalog: Catalog; signedAt: number }> {
    const latest = await this.ctx.store.latestCatalog();
    if (!latest) throw new VolactError('AUTHORITY_NOT_READY', { detail: 'no catalog imported' });
    return { catalog: latest.catalog, signedAt: latest.catalog.issuedAt };
  }

  /** Frees the slot of a decommissioned host on a host key. */
  releaseHost(hostKeyId: string, hostId: string, actor: Actor): Promise<void> {
    return releaseHost(this.ctx, hostKeyId, hostId, actor);
  }

  /** Online host activation: 6 distinct hosts and 10 activations per host key by default. */
  activateHost(req: HostActivationRequest, actor?: Actor): Promise<HostActivationAnswer> {
    return activateHost(this.ctx, req, actor);
  }

  /** Hypervisor agent activation with a datacenter key: a certificate for the guest editions of its group. */
  activateHypervisor(req: HostActivationRequest, actor?: Actor): Promise<HostActivationAnswer> {
    return activateHypervisor(this.ctx, req, actor);
  }

  /** Directory activation: the directory takes one host slot of the key, each object one activation. */
  activateDirectory(req: DirectoryActivationRequest, actor?: Actor): Promise<DirectoryActivationAnswer> {
    return activateDirectory(this.ctx, req, actor);
  }

  /** Offline ("phone") activation: an installation ID in, a signed confirmation ID out. */
  confirmOffline(text: string, actor?: Actor, onKeyProven?: (keyId: string) => Promise<void>): Promise<Confirmed> {
    return confirmOffline(this.ctx, text, actor, onKeyProven);
  }

  /** What air-gapped hosts and machines install to check confirmations: root, offline issuer, catalog. */
  offlineBundle(): Promise<OfflineBundle> {
    return offlineBundle(this.ctx);
  }

  /** A usage report a customer sent: verified to our root and a host we activated, stored once. */
  receiveUsageReport(file: unknown, actor: Actor): Promise<ReceivedUsageReport> {
    return receiveUsageReport(this.ctx, file, actor);
  }

  /** Usage reports received, newest first. */
  usageReports(limit = 1000): Promise<UsageReportRow[]> {
    return this.ctx.store.usageReports(limit);
  }

  /** Creates an admin API token; the secret is shown once, only its hash is kept. */
  createToken(name: string, scopes: string[], actor: Actor): Promise<IssuedToken> {
    return createToken(this.ctx, name, scopes, actor);
  }

  revokeToken(id: string, actor: Actor): Promise<void> {
    return revokeToken(this.ctx, id, actor);
  }

  listTokens(): Promise<TokenRow[]> {
    return this.ctx.store.listTokens();
  }

  auditLog(limit = 100): Promise<AuditRow[]> {
    return this.ctx.store.auditLog(limit);
  }

  /** The authority's clock (console sessions expire by it). */
  now(): number {
    return this.ctx.clock.now();
  }

  /**
   * A live token's name and current scopes by its ID, or undefined when it is unknown or revoked:
   * console sessions re-check their token with it on every request.
   */
  async liveToken(id: string): Promise<{ id: string; name: string; scopes: TokenScope[] } | undefined> {
    const row = await this.ctx.store.findToken(id);
    return row && row.revokedAt === null ? { id: row.id, name: row.name, scopes: row.scopes } : undefined;
  }

  /** Checks a bearer token: known, not revoked, secret matching its stored hash. */
  authenticate(authorization: string | undefined): Promise<{ id: string; scopes: TokenScope[] }> {
    return authenticate(this.ctx, authorization);
  }
}
