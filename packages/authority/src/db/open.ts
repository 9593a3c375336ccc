import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { Kysely, Migrator, PostgresDialect, SqliteDialect } from 'kysely';
import pg from 'pg';
import { VolactError } from '@volact/protocol';
import { migrationProvider } from './migrations.js';
import type { AuthorityTables } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';
/** `pool`: PostgreSQL's connection pool, whose figures the metrics show; SQLite has none. */
export type AuthorityDb = { db: Kysely<AuthorityTables>; dialect: Dialect; pool?: pg.Pool };

// PostgreSQL returns bigint (int8) as text; our times fit in a double exactly.
pg.types.setTypeParser(20, (v) => Number(v));

/**
 * Opens the authority's database: a PostgreSQL URL (postgres://…) for production with several
 * nodes, or a SQLite file path for the embedded default. Migrates it to the current schema.
 */
export async function openAuthorityDb(target: string): Promise<AuthorityDb> {
  let handle: AuthorityDb;
  if (/^postgres(ql)?:\/\//.test(target)) {
    const pool = new pg.Pool({ connectionString: target, max: 10 });
    handle = { db: new Kysely<AuthorityTables>({ dialect: new PostgresDialect({ pool }) }), dialect: 'postgres', pool };
  } else {
    const fresh = !existsSync(target);
    let sqlite: Database.Database;
    try {
      sqlite = new Database(target);
      sqlite.pragma('journal_mode = WAL');
    } catch (err) {
      throw new VolactError('AUTHORITY_NOT_READY', {
        detail: `${target} cannot be opened: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
    if (fresh) chmodSync(target, 0o600);
    sqlite.pragma('synchronous = FULL');
    sqlite.pragma('busy_timeout = 5000');
    sqlite.pragma('foreign_keys = ON');
    handle = {
      db: new Kysely<AuthorityTables>({ dialect: new SqliteDialect({ database: sqlite }) }),
      dialect: 'sqlite',
    };
  }
  const { error } = await new Migrator({ db: handle.db, provider: migrationProvider }).migrateToLatest();
  if (error) {
    await handle.db.destroy();
    throw new VolactError('AUTHORITY_NOT_READY', {
      detail: `database migration failed: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
  return handle;
}
