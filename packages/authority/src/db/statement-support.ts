import type { Kysely, Transaction } from 'kysely';
import type { Audit, HostActivationOutcome, MakActivationOutcome } from '../store.js';
import type { AuthorityTables } from './schema.js';

/** The query layer every statement module runs on (SQLite or PostgreSQL). */
export type Db = Kysely<AuthorityTables>;

/** Thrown inside a transaction to roll it back with an outcome. */
export class Refused extends Error {
  constructor(readonly outcome: HostActivationOutcome | MakActivationOutcome) {
    super(outcome.kind);
  }
}

export const isUniqueViolation = (err: unknown) => {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.code === 'SQLITE_CONSTRAINT_UNIQUE';
};

/** Writes one audit entry inside the caller's transaction. */
export async function audited(trx: Transaction<AuthorityTables>, a: Audit | undefined): Promise<void> {
  if (a)
    await trx
      .insertInto('audit_log')
      .values({ at: a.at, actor: a.actor, action: a.action, target: a.target, detail: a.detail })
      .execute();
}
