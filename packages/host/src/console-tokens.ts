import type Database from 'better-sqlite3';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { VolactError } from '@volact/protocol';
import { LogChain, appendSetting } from './log-chain.js';

/** A host console token's scope: `read` sees everything; `admin` may also change settings. */
export type ConsoleScope = 'read' | 'admin';

/** A token as listed: never its secret, which exists only in the answer that created it. */
export type ConsoleTokenInfo = {
  id: string;
  name: string;
  scope: ConsoleScope;
  createdAt: string;
  revokedAt: string | null;
};

/** Who a valid token is, in the shape the console sessions keep (ConsoleIdentity of @volact/io). */
export type ConsoleTokenIdentity = { tokenId: string; name: string; scopes: string[] };

/** `vht_T<10 hex>_<32 base64url>`: the ID (listed, revoked by) and 24 random bytes of secret. */
const TOKEN_FORMAT = /^vht_(T[0-9a-f]{10})_([A-Za-z0-9_-]{32})$/;

const sha256 = (text: string) => createHash('sha256').update(text).digest();
const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());

type Row = {
  id: string;
  name: string;
  scope: ConsoleScope;
  hash: Buffer;
  created_at: number;
  revoked_at: number | null;
};

/**
 * The host console's tokens in host.db (table console_tokens): the SHA-256 of each token, never
 * the token. Creating and revoking are records of the host's tamper-evident log, named
 * `token:<id>` (settings_log, with the token's name, scope and state as the value; no secret and
 * no hash), so `host verify-log` shows who was let in when. They are not rows of `settings`, so the
 * settings witness (log-witness.ts) does not compare them; a prune drops them with the rest.
 */
export class ConsoleTokens {
  constructor(private readonly db: Database.Database) {}

  /** A new token: its secret is in this answer only. */
  create(name: string, scope: ConsoleScope, at: number): ConsoleTokenInfo & { token: string } {
    const id = 'T' + randomBytes(5).toString('hex');
    const token = `vht_${id}_${randomBytes(24).toString('base64url')}`;
    this.chained(() => {
      this.db
        .prepare('INSERT INTO console_tokens (id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)')
        .run(id, name, scope, sha256(token), at);
      return [at, `token:${id}`, null, JSON.stringify({ name, scope, state: 'created' })];
    });
    return { id, name, scope, createdAt: new Date(at).toISOString(), revokedAt: null, token };
  }

  list(): ConsoleTokenInfo[] {
    return (this.db.prepare('SELECT * FROM console_tokens ORDER BY created_at, id').all() as Row[]).map((r) => ({
      id: r.id,
      name: r.name,
      scope: r.scope,
      createdAt: new Date(r.created_at).toISOString(),
      revokedAt: iso(r.revoked_at),
    }));
  }

  /** Revokes a token by ID; revoking one already revoked changes nothing. */
  revoke(id: string, at: number): ConsoleTokenInfo {
    const row = this.db.prepare('SELECT * FROM console_tokens WHERE id = ?').get(id) as Row | undefined;
    if (!row)
      throw new VolactError('BAD_REQUEST', { field: 'id', problem: `names no console token (${id.slice(0, 20)})` });
    if (row.revoked_at === null)
      this.chained(() => {
        this.db.prepare('UPDATE console_tokens SET revoked_at = ? WHERE id = ?').run(at, id);
        const before = JSON.stringify({ name: row.name, scope: row.scope, state: 'created' });
        return [at, `token:${id}`, before, JSON.stringify({ name: row.name, scope: row.scope, state: 'revoked' })];
      });
    return this.list().find((t) => t.id === id)!;
  }

  /** Who the token is: TOKEN_INVALID when unknown, revoked or malformed (one answer for all three). */
  check(token: string): ConsoleTokenIdentity {
    const m = TOKEN_FORMAT.exec(token);
    const row = m
      ? (this.db.prepare('SELECT * FROM console_tokens WHERE id = ?').get(m[1]) as Row | undefined)
      : undefined;
    if (!row || row.revoked_at !== null || !timingSafeEqual(row.hash, sha256(token)))
      throw new VolactError('TOKEN_INVALID');
    return identity(row);
  }

  /** The token's identity now, or undefined when it was revoked (a session re-checks on each request). */
  current(tokenId: string): ConsoleTokenIdentity | undefined {
    const row = this.db.prepare('SELECT * FROM console_tokens WHERE id = ?').get(tokenId) as Row | undefined;
    return row && row.revoked_at === null ? identity(row) : undefined;
  }

  /** Runs a change and chains its record in one transaction; a rollback puts the chain's head back. */
  private chained(change: () => [number, string, string | null, string]): void {
    const chain = LogChain.of(this.db);
    const mark = chain.mark();
    try {
      this.db.transaction(() => appendSetting(this.db, chain, change()))();
    } catch (err) {
      chain.reset(mark);
      throw err;
    }
  }
}

/** Scopes as the console sees them: an admin token reads too. */
function identity(row: Row): ConsoleTokenIdentity {
  return { tokenId: row.id, name: row.name, scopes: row.scope === 'admin' ? ['read', 'admin'] : ['read'] };
}
