import { sql } from 'kysely';
import type { Audit, IncreaseRequest } from '../store.js';
import { audited, type Db } from './statement-support.js';

// Statements on increase_requests and request_steps: customers' requests and the publisher's decisions.

export async function createIncreaseRequest(
  db: Db,
  r: Omit<IncreaseRequest, 'state' | 'granted' | 'note' | 'decidedAt' | 'steps'>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
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

export async function increaseRequests(db: Db, state?: IncreaseRequest['state']): Promise<IncreaseRequest[]> {
  let q = db.selectFrom('increase_requests').selectAll().orderBy('created_at');
  if (state) q = q.where('state', '=', state);
  const rows = await q.execute();
  const steps = rows.length
    ? await db
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

export async function increaseRequest(db: Db, id: string): Promise<IncreaseRequest | undefined> {
  return (await increaseRequests(db)).find((r) => r.id === id);
}

export async function decideIncreaseRequest(
  db: Db,
  id: string,
  d: { approve: boolean; granted: number; note: string | null; now: number },
  audit: Audit,
): Promise<IncreaseRequest | undefined> {
  const decided = await db.transaction().execute(async (trx) => {
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
  return decided ? increaseRequest(db, id) : undefined;
}
