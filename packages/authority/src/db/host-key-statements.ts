import { sql, type Transaction } from 'kysely';
import type { Audit, HostActivationInput, HostActivationOutcome, HostKeyRow, KeyHostRow, Usage } from '../store.js';
import type { AuthorityTables } from './schema.js';
import { Refused, audited, isUniqueViolation, type Db } from './statement-support.js';

// Statements on host_keys, host_activations and host_activation_requests: host keys and their slots.

type KeyRecord = AuthorityTables['host_keys'] & { key_class: string; hosts_used: number; used_activations: number };

const toKey = (r: KeyRecord): HostKeyRow => ({
  id: r.id,
  keyHash: r.key_hash,
  partial: r.partial,
  groupCode: r.group_code,
  keyClass: r.key_class as HostKeyRow['keyClass'],
  maxHosts: r.max_hosts,
  maxActivations: r.max_activations,
  usedActivations: r.used_activations,
  hostsUsed: r.hosts_used,
  createdAt: Number(r.created_at),
});

export async function insertHostKey(
  db: Db,
  row: Omit<HostKeyRow, 'usedActivations' | 'hostsUsed'>,
  audit: Audit,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto('host_keys')
      .values({
        id: row.id,
        key_hash: row.keyHash,
        partial: row.partial,
        group_code: row.groupCode,
        key_class: row.keyClass,
        max_hosts: row.maxHosts,
        max_activations: row.maxActivations,
        created_at: row.createdAt,
      })
      .execute();
    await audited(trx, audit);
  });
}

export async function findHostKeyByHash(db: Db, keyHash: string): Promise<HostKeyRow | undefined> {
  const r = await db.selectFrom('host_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return r && toKey(r as KeyRecord);
}

export async function listHostKeys(db: Db): Promise<HostKeyRow[]> {
  return (await db.selectFrom('host_keys').selectAll().orderBy('created_at').execute()).map((r) =>
    toKey(r as KeyRecord),
  );
}

export async function activateHost(
  db: Db,
  input: HostActivationInput,
  answer: (activation: number, usage: Usage) => string,
  audit?: Audit,
): Promise<HostActivationOutcome> {
  // A concurrent request with the same ID loses the unique race; the retry then finds its answer.
  for (let attempt = 0; ; attempt++) {
    try {
      return await db.transaction().execute(async (trx) => {
        const outcome = await activateIn(trx, input, answer);
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

async function activateIn(
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

/** The hosts holding slots of one key (its host_activations rows), most recently activated first. */
export async function keyHosts(db: Db, hostKeyId: string): Promise<KeyHostRow[]> {
  const rows = await db
    .selectFrom('host_activations')
    .select(['host_id', 'host_name', 'first_at', 'last_at', 'activations'])
    .where('host_key_id', '=', hostKeyId)
    .orderBy('last_at', 'desc')
    .orderBy('host_id')
    .execute();
  return rows.map((r) => ({
    hostId: r.host_id,
    hostName: r.host_name,
    firstActivatedAt: Number(r.first_at),
    lastActivatedAt: Number(r.last_at),
    activations: Number(r.activations),
  }));
}

export async function releaseHost(db: Db, hostKeyId: string, hostId: string, audit: Audit): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
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
