import type { AuditRow, Audit, TokenRow, TokenScope } from '../store.js';
import type { AuthorityTables } from './schema.js';
import { audited, type Db } from './statement-support.js';

// Statements on api_tokens and audit_log: admin API tokens and the trail of who did what.

const toToken = (r: AuthorityTables['api_tokens']): TokenRow => ({
  id: r.id,
  name: r.name,
  scopes: r.scopes.split(',').filter(Boolean) as TokenScope[],
  tokenHash: r.token_hash,
  createdAt: Number(r.created_at),
  revokedAt: r.revoked_at === null ? null : Number(r.revoked_at),
});

export async function insertToken(db: Db, row: Omit<TokenRow, 'revokedAt'>, audit: Audit): Promise<void> {
  await db.transaction().execute(async (trx) => {
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

export async function findToken(db: Db, id: string): Promise<TokenRow | undefined> {
  const r = await db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
  return r && toToken(r);
}

export async function listTokens(db: Db): Promise<TokenRow[]> {
  return (await db.selectFrom('api_tokens').selectAll().orderBy('created_at').execute()).map(toToken);
}

export async function revokeToken(db: Db, id: string, audit: Audit): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
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

export async function auditLog(db: Db, limit: number): Promise<AuditRow[]> {
  const rows = await db.selectFrom('audit_log').selectAll().orderBy('seq', 'desc').limit(limit).execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    detail: r.detail,
  }));
}
