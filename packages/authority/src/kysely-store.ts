import { sql, type Kysely } from 'kysely';
import type { Catalog } from '@volact/protocol';
import type { AuthorityDb, Dialect } from './db/open.js';
import type { AuthorityTables } from './db/schema.js';
import * as hostKeys from './db/host-key-statements.js';
import * as maks from './db/mak-statements.js';
import * as requests from './db/request-statements.js';
import { audited } from './db/statement-support.js';
import * as tokens from './db/token-statements.js';
import * as usage from './db/usage-report-statements.js';
import type {
  Audit,
  AuditRow,
  AuthorityStore,
  TokenRow,
  HostActivationInput,
  HostActivationOutcome,
  HostKeyRow,
  KeyHostRow,
  IncreaseRequest,
  MakActivationInput,
  MakActivationOutcome,
  MakRow,
  Usage,
  UsageReportRow,
} from './store.js';

/**
 * The authority's store on SQLite or PostgreSQL through one query layer. The statements live in
 * ./db/, one module per family of tables; this class holds the connection and hands it to them.
 */
export class KyselyAuthorityStore implements AuthorityStore {
  private readonly db: Kysely<AuthorityTables>;
  readonly dialect: Dialect;
  /** PostgreSQL's pool, for its figures in the metrics; none on SQLite. */
  readonly pool: AuthorityDb['pool'];

  constructor(handle: AuthorityDb) {
    this.db = handle.db;
    this.dialect = handle.dialect;
    this.pool = handle.pool;
  }

  insertToken(row: Omit<TokenRow, 'revokedAt'>, audit: Audit): Promise<void> {
    return tokens.insertToken(this.db, row, audit);
  }

  findToken(id: string): Promise<TokenRow | undefined> {
    return tokens.findToken(this.db, id);
  }

  listTokens(): Promise<TokenRow[]> {
    return tokens.listTokens(this.db);
  }

  revokeToken(id: string, audit: Audit): Promise<boolean> {
    return tokens.revokeToken(this.db, id, audit);
  }

  auditLog(limit: number): Promise<AuditRow[]> {
    return tokens.auditLog(this.db, limit);
  }

  async saveCatalog(catalog: Catalog, jws: string, audit: Audit): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('catalogs')
        .values({ serial: catalog.serial, body: JSON.stringify(catalog), jws })
        .execute();
      await audited(trx, audit);
    });
  }

  async latestCatalog(): Promise<{ catalog: Catalog; jws: string } | undefined> {
    const row = await this.db
      .selectFrom('catalogs')
      .select(['body', 'jws'])
      .orderBy('serial', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { catalog: JSON.parse(row.body) as Catalog, jws: row.jws };
  }

  insertHostKey(row: Omit<HostKeyRow, 'usedActivations' | 'hostsUsed'>, audit: Audit): Promise<void> {
    return hostKeys.insertHostKey(this.db, row, audit);
  }

  findHostKeyByHash(keyHash: string): Promise<HostKeyRow | undefined> {
    return hostKeys.findHostKeyByHash(this.db, keyHash);
  }

  listHostKeys(): Promise<HostKeyRow[]> {
    return hostKeys.listHostKeys(this.db);
  }

  activateHost(
    input: HostActivationInput,
    answer: (activation: number, usage: Usage) => string,
    audit?: Audit,
  ): Promise<HostActivationOutcome> {
    return hostKeys.activateHost(this.db, input, answer, audit);
  }

  keyHosts(hostKeyId: string): Promise<KeyHostRow[]> {
    return hostKeys.keyHosts(this.db, hostKeyId);
  }

  releaseHost(hostKeyId: string, hostId: string, audit: Audit): Promise<boolean> {
    return hostKeys.releaseHost(this.db, hostKeyId, hostId, audit);
  }

  insertMak(row: Omit<MakRow, 'usedActivations'>, audit: Audit): Promise<void> {
    return maks.insertMak(this.db, row, audit);
  }

  findMakByHash(keyHash: string): Promise<MakRow | undefined> {
    return maks.findMakByHash(this.db, keyHash);
  }

  listMaks(): Promise<MakRow[]> {
    return maks.listMaks(this.db);
  }

  activateMak(input: MakActivationInput, audit?: Audit): Promise<MakActivationOutcome> {
    return maks.activateMak(this.db, input, audit);
  }

  createIncreaseRequest(r: Omit<IncreaseRequest, 'state' | 'granted' | 'note' | 'decidedAt' | 'steps'>): Promise<void> {
    return requests.createIncreaseRequest(this.db, r);
  }

  increaseRequests(state?: IncreaseRequest['state']): Promise<IncreaseRequest[]> {
    return requests.increaseRequests(this.db, state);
  }

  increaseRequest(id: string): Promise<IncreaseRequest | undefined> {
    return requests.increaseRequest(this.db, id);
  }

  decideIncreaseRequest(
    id: string,
    d: { approve: boolean; granted: number; note: string | null; now: number },
    audit: Audit,
  ): Promise<IncreaseRequest | undefined> {
    return requests.decideIncreaseRequest(this.db, id, d, audit);
  }

  hostActivated(hostPublicKey: string): Promise<boolean> {
    return usage.hostActivated(this.db, hostPublicKey);
  }

  saveUsageReport(row: UsageReportRow, file: string, audit: Audit): Promise<{ stored: boolean; row: UsageReportRow }> {
    return usage.saveUsageReport(this.db, row, file, audit);
  }

  usageReports(limit: number): Promise<UsageReportRow[]> {
    return usage.usageReports(this.db, limit);
  }

  async hit(bucket: string, windowStart: number): Promise<number> {
    const row = await this.db
      .insertInto('rate_limits')
      .values({ bucket, window_start: windowStart, hits: 1 })
      .onConflict((oc) => oc.columns(['bucket', 'window_start']).doUpdateSet({ hits: sql`rate_limits.hits + 1` }))
      .returning('hits')
      .executeTakeFirstOrThrow();
    return row.hits;
  }

  async pruneRateLimits(before: number): Promise<void> {
    await this.db.deleteFrom('rate_limits').where('window_start', '<', before).execute();
  }

  async rowCounts(): Promise<Record<string, number>> {
    const count = async (table: keyof AuthorityTables) =>
      Number(
        (
          await this.db
            .selectFrom(table)
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    return {
      catalogs: await count('catalogs'),
      hostKeys: await count('host_keys'),
      hostActivations: await count('host_activations'),
      hostActivationRequests: await count('host_activation_requests'),
      maks: await count('maks'),
      increaseRequests: await count('increase_requests'),
      makActivations: await count('mak_activations'),
      offlineConfirmations: await count('offline_confirmations'),
      apiTokens: await count('api_tokens'),
      auditLog: await count('audit_log'),
      usageReports: await count('usage_reports'),
    };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
