import { sql, type Transaction } from 'kysely';
import { sameHardware, type HashedParts } from '@volact/protocol';
import type { Audit, MakActivationInput, MakActivationOutcome, MakRow } from '../store.js';
import type { AuthorityTables } from './schema.js';
import { Refused, audited, type Db } from './statement-support.js';

// Statements on maks, mak_activations and offline_confirmations: MAKs and the machines they activated.

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

export async function insertMak(db: Db, row: Omit<MakRow, 'usedActivations'>, audit: Audit): Promise<void> {
  await db.transaction().execute(async (trx) => {
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

export async function findMakByHash(db: Db, keyHash: string): Promise<MakRow | undefined> {
  const r = await db.selectFrom('maks').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  return r && toMak(r as MakRecord);
}

export async function listMaks(db: Db): Promise<MakRow[]> {
  return (await db.selectFrom('maks').selectAll().orderBy('created_at').execute()).map((r) => toMak(r as MakRecord));
}

export async function activateMak(db: Db, input: MakActivationInput, audit?: Audit): Promise<MakActivationOutcome> {
  try {
    return await db.transaction().execute(async (trx) => {
      const outcome = await activateMakIn(trx, input);
      await audited(trx, audit && { ...audit, detail: `${audit.detail} (${outcome.kind})` });
      return outcome;
    });
  } catch (err) {
    if (err instanceof Refused) return err.outcome as MakActivationOutcome;
    throw err;
  }
}

/** A machine the MAK already counts: answered with the MAK's usage, nothing counted. */
async function repeat(trx: Transaction<AuthorityTables>, makId: string): Promise<MakActivationOutcome> {
  const mak = await trx
    .selectFrom('maks')
    .select(['used_activations', 'max_activations'])
    .where('id', '=', makId)
    .executeTakeFirstOrThrow();
  return { kind: 'repeat', used: mak.used_activations, limit: mak.max_activations };
}

async function activateMakIn(
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
    if (!first) return repeat(trx, input.makId);
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
    if (sameHardware(JSON.parse(known.parts) as HashedParts, input.parts)) return repeat(trx, input.makId);
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
