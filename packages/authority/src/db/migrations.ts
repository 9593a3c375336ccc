import { sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';

/**
 * One set of migrations for SQLite and PostgreSQL. Limits are enforced by the database:
 * CHECK constraints keep every counter within its limit, whatever the code does.
 */
const migrations: Record<string, Migration> = {
  '001-host-activation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('catalogs')
        .addColumn('serial', 'integer', (c) => c.primaryKey())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('jws', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('host_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('partial', 'text', (c) => c.notNull())
        .addColumn('group_code', 'text', (c) => c.notNull())
        .addColumn('max_hosts', 'integer', (c) => c.notNull().check(sql`max_hosts >= 0`))
        .addColumn('max_activations', 'integer', (c) => c.notNull().check(sql`max_activations >= 0`))
        .addColumn('hosts_used', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('used_activations', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint('host_keys_hosts_within_limit', sql`hosts_used <= max_hosts`)
        .addCheckConstraint('host_keys_activations_within_limit', sql`used_activations <= max_activations`)
        .execute();
      await db.schema
        .createTable('host_activations')
        .addColumn('host_key_id', 'text', (c) => c.notNull().references('host_keys.id'))
        .addColumn('host_public_key', 'text', (c) => c.notNull())
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('host_name', 'text', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addColumn('activations', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('host_activations_pk', ['host_key_id', 'host_public_key'])
        .execute();
      await db.schema
        .createTable('host_activation_requests')
        .addColumn('request_id', 'text', (c) => c.primaryKey())
        .addColumn('host_key_id', 'text', (c) => c.notNull())
        .addColumn('host_public_key', 'text', (c) => c.notNull())
        .addColumn('answer', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '002-mak': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('maks')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('partial', 'text', (c) => c.notNull())
        .addColumn('edition', 'integer', (c) => c.notNull())
        .addColumn('max_activations', 'integer', (c) => c.notNull().check(sql`max_activations >= 0`))
        .addColumn('used_activations', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addCheckConstraint('maks_within_limit', sql`used_activations <= max_activations`)
        .execute();
      await db.schema
        .createTable('mak_activations')
        .addColumn('mak_id', 'text', (c) => c.notNull().references('maks.id'))
        .addColumn('machine_id', 'text', (c) => c.notNull())
        .addColumn('parts', 'text', (c) => c.notNull())
        .addColumn('first_at', 'bigint', (c) => c.notNull())
        .addColumn('last_at', 'bigint', (c) => c.notNull())
        .addColumn('activations', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('mak_activations_pk', ['mak_id', 'machine_id'])
        .execute();
    },
  },
  '003-rate-limits': {
    async up(db: Kysely<unknown>) {
      // shared by every node, so a guesser cannot spread requests over nodes
      await db.schema
        .createTable('rate_limits')
        .addColumn('bucket', 'text', (c) => c.notNull())
        .addColumn('window_start', 'bigint', (c) => c.notNull())
        .addColumn('hits', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('rate_limits_pk', ['bucket', 'window_start'])
        .execute();
    },
  },
  '004-increase-requests': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('increase_requests')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key_kind', 'text', (c) => c.notNull().check(sql`key_kind in ('host-key', 'mak')`))
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('what', 'text', (c) => c.notNull().check(sql`what in ('hosts', 'activations')`))
        .addColumn('amount', 'integer', (c) => c.notNull().check(sql`amount > 0`))
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull().check(sql`state in ('pending', 'approved', 'rejected')`))
        .addColumn('granted', 'integer')
        .addColumn('note', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('decided_at', 'bigint')
        .execute();
      // every step of a request, written in the same transaction as the step itself
      await db.schema
        .createTable('request_steps')
        .addColumn('request_id', 'text', (c) => c.notNull().references('increase_requests.id'))
        .addColumn('step', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('request_steps_pk', ['request_id', 'step'])
        .execute();
    },
  },
  '005-admin-api': {
    async up(db: Kysely<unknown>) {
      // bearer tokens for the admin API: only a hash of the secret part is kept
      await db.schema
        .createTable('api_tokens')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      // installation IDs confirmed for MAKs: the same IID again is a retry and counts nothing,
      // even when the machine has since been confirmed on other hardware (no replay can drain a MAK)
      await db.schema
        .createTable('offline_confirmations')
        .addColumn('iid_hash', 'text', (c) => c.primaryKey())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      // every administrative write, in the same transaction as the write
      // seq orders entries written in the same millisecond (a frozen test clock, busy nodes)
      const postgres = db.getExecutor().adapter.constructor.name.startsWith('Postgres');
      await db.schema
        .createTable('audit_log')
        .addColumn('seq', postgres ? 'bigint' : 'integer', (c) =>
          postgres ? c.primaryKey().generatedAlwaysAsIdentity() : c.primaryKey().autoIncrement(),
        )
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('target', 'text', (c) => c.notNull())
        .addColumn('detail', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '006-datacenter-keys': {
    async up(db: Kysely<unknown>) {
      // datacenter keys share host keys' limits, slots, releases and increase requests: one table,
      // with the class so that a key is only ever accepted where its class belongs
      await db.schema
        .alterTable('host_keys')
        .addColumn('key_class', 'text', (c) =>
          c
            .notNull()
            .defaultTo('host')
            .check(sql`key_class in ('host', 'datacenter')`),
        )
        .execute();
    },
  },
  '007-usage-reports': {
    async up(db: Kysely<unknown>) {
      // usage reports customers send: the verified content for listing and the file as received,
      // kept as evidence; the hash of the signed report makes a second upload the same row
      await db.schema
        .createTable('usage_reports')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('report_hash', 'text', (c) => c.notNull().unique())
        .addColumn('host_id', 'text', (c) => c.notNull())
        .addColumn('groups', 'text', (c) => c.notNull())
        .addColumn('period_from', 'text', (c) => c.notNull())
        .addColumn('period_to', 'text', (c) => c.notNull())
        .addColumn('generated_at', 'bigint', (c) => c.notNull())
        .addColumn('received_at', 'bigint', (c) => c.notNull())
        .addColumn('received_by', 'text', (c) => c.notNull())
        .addColumn('report', 'text', (c) => c.notNull())
        .addColumn('file', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('usage_reports_received').on('usage_reports').column('received_at').execute();
    },
  },
};

export const migrationProvider: MigrationProvider = { getMigrations: async () => migrations };
