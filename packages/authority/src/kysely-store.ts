import { sql, type Kysely, type Transaction } from 'kysely';
import { sameHardware, type Catalog, type HashedParts } from '@volact/protocol';
import type { AuthorityDb } from './db/open.js';
import type { AuthorityTables } from './db/schema.js';
import type {
  Audit,
  AuditRow,
  AuthorityStore,
  TokenRow,
  TokenScope,
  HostActivationInput,
  HostActivationOutcome,
  HostKeyRow,
  IncreaseRequest,
  MakActivationInput,
  MakActivationOutcome,
  MakRow,
  Usage,
} from './store.js';

type KeyRecord = AuthorityTables['host_keys'] & { hosts_used: number; used_activations: number };

const toKey = (r: KeyRecord): HostKeyRow => ({
  id: r.id,
  keyHash: r.key_hash,
  partial: r.partial,
  groupCode: r.group_code,
  maxHosts: r.max_hosts,
  maxActivations: r.max_activations,
  usedActivations: r.used_activations,
  hostsUsed: r.hosts_used,
  createdAt: Number(r.created_at),
});

type MakRecord = AuthorityTables['maks'] & { used_activations: number };

const toMak = (r: MakRecord): MakRow => ({
  id: r.id,
  keyHash: r.key_hash,
  partial: r.partial,
  edition: r.edition,
  maxActivations: r.max_activations,
  usedActivations: r.used_activations,
  createdAt: Number(r.created_at),
});

/** Thrown inside a transaction to roll it back with an outcome. */
class Refused extends Error {
  constructor(readonly outcome: HostActivationOutcome | MakActivationOutcome) {
    super(outcome.kind);
  }
}

const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** Writes one audit entry inside the caller's transaction. */
async function audited(trx: Transaction<AuthorityTables>, a: Audit | undefined): Promise<void> {
  if (a)
    await trx
      .insertInto('audit_log')
      .values({ at: a.at, actor: a.actor, action: a.action, target: a.target, detail: a.detail })
      .execute();
}

const toToken = (r: AuthorityTables['api_tokens']): TokenRow => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes.split(',').filter(Boolean) as TokenScope[],
  tokenHash: r.token_hash,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

/** The authority's store on SQLite or PostgreSQL through one query layer. */
export class KyselyAuthorityStore implements AuthorityStore {
  private readonly db: Kysely<AuthorityTables>;

  constructor(handle: AuthorityDb) {
    this.db = handle.db;
  }

  async insertToken(row: Omit<TokenRow, 'revokedAt'>, audit: Audit): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('api_tokens')
        .values({
          id: row.id,
          name: row.name,
          scopes: row.scopes.join(','),
          token_hash: row.tokenHash,
          created_at: row.createdAt,
          revoked_at: null,
        })
        .execute();
      await audited(trx, audit);
    });
  }

  async findToken(id: string): Promise<TokenRow | undefined> {
    const r = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return r && toToken(r);
  }

  async listTokens(): Promise<TokenRow[]> {
    return (await this.db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute()).map(toToken);
  }

  async revokeToken(id: string, audit: Audit): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const r = await trx
        .updateTable('api_tokens')
        .set({ revoked_at: audit.at })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .returning('id')
        .executeTakeFirst();
      if (!r) return false;
      await audited(trx, audit);
      return true;
    });
  }

  async auditLog(limit: number): Promise<AuditRow[]> {
    const rows = await this.db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      seq: Number(r.seq),
      at: Number(r.at),
      actor: r.actor,
      action: r.action,
      target: r.target,
      detail: r.detail,
    }));
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

  async insertHostKey(row: Omit<HostKeyRow, 'usedActivations' | 'hostsUsed'>, audit: Audit): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('host_keys')
        .values({
          id: row.id,
          key_hash: row.keyHash,
          partial: row.partial,
          group_code: row.groupCode,
          max_hosts: row.maxHosts,
          max_activations: row.maxActivations,
          created_at: row.createdAt,
        })
        .execute();
      await audited(trx, audit);
    });
  }

  async findHostKeyByHash(keyHash: string): Promise<HostKeyRow | undefined> {
    const r = await this.db.selectFrom('host_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return r && toKey(r as KeyRecord);
  }

  async listHostKeys(): Promise<HostKeyRow[]> {
    return (await this.db.selectFrom('host_keys').selectAll().orderBy('created_at').execute()).map((r) =>
      toKey(r as KeyRecord),
    );
  }

  async activateHost(
    input: HostActivationInput,
    answer: (activation: number, usage: Usage) => string,
    audit?: Audit,
  ): Promise<HostActivationOutcome> {
    // A concurrent request with the same ID loses the unique race; the retry then finds its answer.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.db.transaction().execute(async (trx) => {
          const outcome = await this.activateIn(trx, input, answer);
          await audited(trx, audit && { ...audit, detail: `${audit.detail} (${outcome.kind})` });
          return outcome;
        });
      } catch (err) {
        if (err instanceof Refused) return err.outcome as HostActivationOutcome;
        if (attempt < 2 && isUniqueViolation(err)) continue;
        throw err;
      }
    }
  }

  private async activateIn(
    trx: Transaction<AuthorityTables>,
    input: HostActivationInput,
    answer: (activation: number, usage: Usage) => string,
  ): Promise<HostActivationOutcome> {
    const prior = await trx
      .selectFrom('host_activation_requests')
      .selectAll()
      .where('request_id', '=', input.requestId)
      .executeTakeFirst();
    if (prior) {
      // A retry after a lost answer: the same answer again, nothing used up.
      if (prior.host_key_id !== input.hostKeyId || prior.host_public_key !== input.hostPublicKey)
        return { kind: 'requestConflict' };
      return { kind: 'retried', answer: prior.answer };
    }
    const added = await trx
      .insertInto('host_activations')
      .values({
        host_key_id: input.hostKeyId,
        host_public_key: input.hostPublicKey,
        host_id: input.hostId,
        host_name: input.hostName,
        first_at: input.now,
        last_at: input.now,
        activations: 0,
      })
      .onConflict((oc) => oc.columns(['host_key_id', 'host_public_key']).doNothing())
      .returning('host_key_id')
      .executeTakeFirst();
    const isNew = added !== undefined;
    if (isNew) {
      // One atomic statement per limit: the database, not this process, decides who gets the slot.
      const slot = await trx
        .updateTable('host_keys')
        .set({ hosts_used: sql`hosts_used + 1` })
        .where('id', '=', input.hostKeyId)
        .whereRef('hosts_used', '<', 'max_hosts')
        .returning('hosts_used')
        .executeTakeFirst();
      if (!slot) {
        const key = await trx
          .selectFrom('host_keys')
          .select(['hosts_used', 'max_hosts'])
          .where('id', '=', input.hostKeyId)
          .executeTakeFirstOrThrow();
        throw new Refused({ kind: 'hostLimit', used: key.hosts_used, limit: key.max_hosts });
      }
    }
    const used = await trx
      .updateTable('host_keys')
      .set({ used_activations: sql`used_activations + 1` })
      .where('id', '=', input.hostKeyId)
      .whereRef('used_activations', '<', 'max_activations')
      .returningAll()
      .executeTakeFirst();
    if (!used) {
      const key = await trx
        .selectFrom('host_keys')
        .select(['used_activations', 'max_activations'])
        .where('id', '=', input.hostKeyId)
        .executeTakeFirstOrThrow();
      throw new Refused({ kind: 'activationLimit', used: key.used_activations, limit: key.max_activations });
    }
    const host = await trx
      .updateTable('host_activations')
      .set({ activations: sql`activations + 1`, last_at: input.now, host_name: input.hostName })
      .where('host_key_id', '=', input.hostKeyId)
      .where('host_public_key', '=', input.hostPublicKey)
      .returning('activations')
      .executeTakeFirstOrThrow();
    const key = used as KeyRecord;
    const text = answer(host.activations, {
      hostsUsed: key.hosts_used,
      hostsLimit: key.max_hosts,
      activationsUsed: key.used_activations,
      activationsLimit: key.max_activations,
    });
    await trx
      .insertInto('host_activation_requests')
      .values({
        request_id: input.requestId,
        host_key_id: input.hostKeyId,
        host_public_key: input.hostPublicKey,
        answer: text,
        created_at: input.now,
      })
      .execute();
    return { kind: isNew ? 'activated' : 'reactivated', answer: text };
  }

  async insertMak(row: Omit<MakRow, 'usedActivations'>, audit: Audit): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('maks')
        .values({
          id: row.id,
          key_hash: row.keyHash,
          partial: row.partial,
          edition: row.edition,
          max_activations: row.maxActivations,
          created_at: row.createdAt,
        })
        .execute();
      await audited(trx, audit);
    });
  }

  async findMakByHash(keyHash: string): Promise<MakRow | undefined> {
    const r = await this.db.selectFrom('maks').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
    return r && toMak(r as MakRecord);
  }

  async listMaks(): Promise<MakRow[]> {
    return (await this.db.selectFrom('maks').selectAll().orderBy('created_at').execute()).map((r) =>
      toMak(r as MakRecord),
    );
  }

  async activateMak(input: MakActivationInput, audit?: Audit): Promise<MakActivationOutcome> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        const outcome = await this.activateMakIn(trx, input);
        await audited(trx, audit && { ...audit, detail: `${audit.detail} (${outcome.kind})` });
        return outcome;
      });
    } catch (err) {
      if (err instanceof Refused) return err.outcome as MakActivationOutcome;
      throw err;
    }
  }

  private async activateMakIn(
    trx: Transaction<AuthorityTables>,
    input: MakActivationInput,
  ): Promise<MakActivationOutcome> {
    if (input.iidHash) {
      const first = await trx
        .insertInto('offline_confirmations')
        .values({ iid_hash: input.iidHash, key_id: input.makId, created_at: input.now })
        .onConflict((oc) => oc.column('iid_hash').doNothing())
        .returning('iid_hash')
        .executeTakeFirst();
      if (!first) {
        const mak = await trx
          .selectFrom('maks')
          .select(['used_activations', 'max_activations'])
          .where('id', '=', input.makId)
          .executeTakeFirstOrThrow();
        return { kind: 'repeat', used: mak.used_activations, limit: mak.max_activations };
      }
    }
    const inserted = await trx
      .insertInto('mak_activations')
      .values({
        mak_id: input.makId,
        machine_id: input.machineId,
        parts: JSON.stringify(input.parts),
        first_at: input.now,
        last_at: input.now,
        activations: 1,
      })
      .onConflict((oc) => oc.columns(['mak_id', 'machine_id']).doNothing())
      .returning('machine_id')
      .executeTakeFirst();
    if (!inserted) {
      // Known machine (or a concurrent first request for it): count only a change beyond tolerance.
      // An UPDATE, not a SELECT: it locks the row, so two concurrent requests for one changed
      // machine are judged one after the other and the second sees the parts the first stored.
      const known = await trx
        .updateTable('mak_activations')
        .set({ last_at: input.now })
        .where('mak_id', '=', input.makId)
        .where('machine_id', '=', input.machineId)
        .returning(['parts'])
        .executeTakeFirstOrThrow();
      if (sameHardware(JSON.parse(known.parts) as HashedParts, input.parts)) {
        const mak = await trx
          .selectFrom('maks')
          .select(['used_activations', 'max_activations'])
          .where('id', '=', input.makId)
          .executeTakeFirstOrThrow();
        return { kind: 'repeat', used: mak.used_activations, limit: mak.max_activations };
      }
    }
    const used = await trx
      .updateTable('maks')
      .set({ used_activations: sql`used_activations + 1` })
      .where('id', '=', input.makId)
      .whereRef('used_activations', '<', 'max_activations')
      .returning(['used_activations', 'max_activations'])
      .executeTakeFirst();
    if (!used) {
      const mak = await trx
        .selectFrom('maks')
        .select(['used_activations', 'max_activations'])
        .where('id', '=', input.makId)
        .executeTakeFirstOrThrow();
      throw new Refused({ kind: 'limit', used: mak.used_activations, limit: mak.max_activations });
    }
    if (!inserted) {
      await trx
        .updateTable('mak_activations')
        .set({ parts: JSON.stringify(input.parts), last_at: input.now, activations: sql`activations + 1` })
        .where('mak_id', '=', input.makId)
        .where('machine_id', '=', input.machineId)
        .execute();
    }
    return { kind: inserted ? 'activated' : 'reactivated', used: used.used_activations, limit: used.max_activations };
  }

  async createIncreaseRequest(
    r: Omit<IncreaseRequest, 'state' | 'granted' | 'note' | 'decidedAt' | 'steps'>,
  ): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('increase_requests')
        .values({
          id: r.id,
          key_kind: r.keyKind,
          key_id: r.keyId,
          what: r.what,
          amount: r.amount,
          reason: r.reason,
          state: 'pending',
          created_at: r.createdAt,
        })
        .execute();
      await trx
        .insertInto('request_steps')
        .values({
          request_id: r.id,
          step: 'requested',
          at: r.createdAt,
          detail: `${r.amount} more ${r.what}: ${r.reason}`,
        })
        .execute();
    });
  }

  async increaseRequests(state?: IncreaseRequest['state']): Promise<IncreaseRequest[]> {
    let q = this.db.selectFrom('increase_requests').selectAll().orderBy('created_at');
    if (state) q = q.where('state', '=', state);
    const rows = await q.execute();
    const steps = rows.length
      ? await this.db
          .selectFrom('request_steps')
          .selectAll()
          .where(
            'request_id',
            'in',
            rows.map((r) => r.id),
          )
          .orderBy('at')
          .orderBy(sql`case step when 'requested' then 0 else 1 end`)
          .execute()
      : [];
    return rows.map((r) => ({
      id: r.id,
      keyKind: r.key_kind as IncreaseRequest['keyKind'],
      keyId: r.key_id,
      what: r.what as IncreaseRequest['what'],
      amount: r.amount,
      reason: r.reason,
      state: r.state as IncreaseRequest['state'],
      granted: r.granted,
      note: r.note,
      createdAt: Number(r.created_at),
      decidedAt: r.decided_at === null ? null : Number(r.decided_at),
      steps: steps
        .filter((st) => st.request_id === r.id)
        .map((st) => ({ step: st.step, at: Number(st.at), detail: st.detail })),
    }));
  }

  async increaseRequest(id: string): Promise<IncreaseRequest | undefined> {
    return (await this.increaseRequests()).find((r) => r.id === id);
  }

  async decideIncreaseRequest(
    id: string,
    d: { approve: boolean; granted: number; note: string | null; now: number },
    audit: Audit,
  ): Promise<IncreaseRequest | undefined> {
    const decided = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .updateTable('increase_requests')
        .set({
          state: d.approve ? 'approved' : 'rejected',
          granted: d.approve ? d.granted : null,
          note: d.note,
          decided_at: d.now,
        })
        .where('id', '=', id)
        .where('state', '=', 'pending')
        .returningAll()
        .executeTakeFirst();
      if (!row) return false;
      if (d.approve) {
        // the limit rises at once, in the same transaction as the decision
        if (row.key_kind === 'mak') {
          await trx
            .updateTable('maks')
            .set({ max_activations: sql`max_activations + ${d.granted}` })
            .where('id', '=', row.key_id)
            .execute();
        } else if (row.what === 'hosts') {
          await trx
            .updateTable('host_keys')
            .set({ max_hosts: sql`max_hosts + ${d.granted}` })
            .where('id', '=', row.key_id)
            .execute();
        } else {
          await trx
            .updateTable('host_keys')
            .set({ max_activations: sql`max_activations + ${d.granted}` })
            .where('id', '=', row.key_id)
            .execute();
        }
      }
      const detail = d.approve
        ? `${d.granted} more ${row.what} granted${d.note ? `: ${d.note}` : ''}`
        : `rejected${d.note ? `: ${d.note}` : ''}`;
      await trx
        .insertInto('request_steps')
        .values({ request_id: id, step: d.approve ? 'approved' : 'rejected', at: d.now, detail })
        .execute();
      await audited(trx, { ...audit, detail });
      return true;
    });
    return decided ? this.increaseRequest(id) : undefined;
  }

  async releaseHost(hostKeyId: string, hostId: string, audit: Audit): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const gone = await trx
        .deleteFrom('host_activations')
        .where('host_key_id', '=', hostKeyId)
        .where('host_id', '=', hostId)
        .returning('host_id')
        .executeTakeFirst();
      if (!gone) return false;
      await trx
        .updateTable('host_keys')
        .set({ hosts_used: sql`hosts_used - 1` })
        .where('id', '=', hostKeyId)
        .execute();
      await audited(trx, audit);
      return true;
    });
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
    };
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
