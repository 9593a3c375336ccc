import Database from 'better-sqlite3';
import type { Catalog } from '@volact/protocol';
import type { AuthorityStore, HostActivationInput, HostActivationOutcome, HostKeyRow, Usage } from './store.js';

const migrations = [
  `CREATE TABLE catalogs (serial INTEGER PRIMARY KEY, body TEXT NOT NULL, jws TEXT NOT NULL);
   CREATE TABLE host_keys (
     id TEXT PRIMARY KEY, key_hash TEXT NOT NULL UNIQUE, partial TEXT NOT NULL, group_code TEXT NOT NULL,
     max_hosts INTEGER NOT NULL CHECK (max_hosts >= 0), max_activations INTEGER NOT NULL CHECK (max_activations >= 0),
     used_activations INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL,
     CHECK (used_activations <= max_activations));
   CREATE TABLE host_activations (
     host_key_id TEXT NOT NULL REFERENCES host_keys(id), host_public_key TEXT NOT NULL, host_id TEXT NOT NULL,
     host_name TEXT NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL, activations INTEGER NOT NULL,
     PRIMARY KEY (host_key_id, host_public_key));
   CREATE TABLE host_activation_requests (
     request_id TEXT PRIMARY KEY, host_key_id TEXT NOT NULL, host_public_key TEXT NOT NULL,
     answer TEXT NOT NULL, created_at INTEGER NOT NULL);`,
];

type KeyRow = { id: string; key_hash: string; partial: string; group_code: string; max_hosts: number; max_activations: number; used_activations: number; created_at: number; hosts_used: number };

const toKey = (r: KeyRow): HostKeyRow => ({
  id: r.id,
  keyHash: r.key_hash,
  partial: r.partial,
  groupCode: r.group_code,
  maxHosts: r.max_hosts,
  maxActivations: r.max_activations,
  usedActivations: r.used_activations,
  hostsUsed: r.hosts_used,
  createdAt: r.created_at,
});

const keySelect = `SELECT k.*, (SELECT COUNT(*) FROM host_activations a WHERE a.host_key_id = k.id) AS hosts_used FROM host_keys k`;

/** The embedded default store: one SQLite file in WAL mode. */
export class SqliteAuthorityStore implements AuthorityStore {
  private readonly db: Database.Database;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < migrations.length; v++) {
      this.db.transaction(() => {
        this.db.exec(migrations[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }).immediate();
    }
  }

  saveCatalog(catalog: Catalog, jws: string): void {
    this.db.prepare('INSERT INTO catalogs (serial, body, jws) VALUES (?, ?, ?)').run(catalog.serial, JSON.stringify(catalog), jws);
  }

  latestCatalog(): { catalog: Catalog; jws: string } | undefined {
    const row = this.db.prepare('SELECT body, jws FROM catalogs ORDER BY serial DESC LIMIT 1').get() as { body: string; jws: string } | undefined;
    return row && { catalog: JSON.parse(row.body) as Catalog, jws: row.jws };
  }

  insertHostKey(row: Omit<HostKeyRow, 'usedActivations' | 'hostsUsed'>): void {
    this.db
      .prepare('INSERT INTO host_keys (id, key_hash, partial, group_code, max_hosts, max_activations, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(row.id, row.keyHash, row.partial, row.groupCode, row.maxHosts, row.maxActivations, row.createdAt);
  }

  findHostKeyByHash(keyHash: string): HostKeyRow | undefined {
    const r = this.db.prepare(`${keySelect} WHERE k.key_hash = ?`).get(keyHash) as KeyRow | undefined;
    return r && toKey(r);
  }

  listHostKeys(): HostKeyRow[] {
    return (this.db.prepare(`${keySelect} ORDER BY k.created_at`).all() as KeyRow[]).map(toKey);
  }

  activateHost(input: HostActivationInput, answer: (activation: number, usage: Usage) => string): HostActivationOutcome {
    const run = this.db.transaction((): HostActivationOutcome => {
      const prior = this.db.prepare('SELECT host_key_id, host_public_key, answer FROM host_activation_requests WHERE request_id = ?').get(input.requestId) as
        | { host_key_id: string; host_public_key: string; answer: string }
        | undefined;
      if (prior) {
        // A retry after a lost answer: the same answer again, nothing used up.
        if (prior.host_key_id !== input.hostKeyId || prior.host_public_key !== input.hostPublicKey) return { kind: 'requestConflict' };
        return { kind: 'retried', answer: prior.answer };
      }
      const key = this.db.prepare(`${keySelect} WHERE k.id = ?`).get(input.hostKeyId) as KeyRow;
      const existing = this.db.prepare('SELECT activations FROM host_activations WHERE host_key_id = ? AND host_public_key = ?').get(input.hostKeyId, input.hostPublicKey) as
        | { activations: number }
        | undefined;
      if (!existing) {
        const added = this.db
          .prepare(
            `INSERT INTO host_activations (host_key_id, host_public_key, host_id, host_name, first_at, last_at, activations)
             SELECT ?, ?, ?, ?, ?, ?, 0 WHERE (SELECT COUNT(*) FROM host_activations WHERE host_key_id = ?) < ?`,
          )
          .run(input.hostKeyId, input.hostPublicKey, input.hostId, input.hostName, input.now, input.now, input.hostKeyId, key.max_hosts);
        if (added.changes === 0) return { kind: 'hostLimit', used: key.hosts_used, limit: key.max_hosts };
      }
      const used = this.db.prepare('UPDATE host_keys SET used_activations = used_activations + 1 WHERE id = ? AND used_activations < max_activations').run(input.hostKeyId);
      if (used.changes === 0) throw new ActivationLimit(key.used_activations, key.max_activations);
      this.db
        .prepare('UPDATE host_activations SET activations = activations + 1, last_at = ?, host_name = ? WHERE host_key_id = ? AND host_public_key = ?')
        .run(input.now, input.hostName, input.hostKeyId, input.hostPublicKey);
      const activation = (this.db.prepare('SELECT activations FROM host_activations WHERE host_key_id = ? AND host_public_key = ?').get(input.hostKeyId, input.hostPublicKey) as { activations: number }).activations;
      const after = toKey(this.db.prepare(`${keySelect} WHERE k.id = ?`).get(input.hostKeyId) as KeyRow);
      const text = answer(activation, { hostsUsed: after.hostsUsed, hostsLimit: after.maxHosts, activationsUsed: after.usedActivations, activationsLimit: after.maxActivations });
      this.db.prepare('INSERT INTO host_activation_requests (request_id, host_key_id, host_public_key, answer, created_at) VALUES (?, ?, ?, ?, ?)').run(input.requestId, input.hostKeyId, input.hostPublicKey, text, input.now);
      return { kind: existing ? 'reactivated' : 'activated', answer: text };
    });
    try {
      return run.immediate();
    } catch (err) {
      // Thrown inside the transaction so the new host row rolls back with it.
      if (err instanceof ActivationLimit) return { kind: 'activationLimit', used: err.used, limit: err.limit };
      throw err;
    }
  }

  close(): void {
    this.db.close();
  }
}

class ActivationLimit extends Error {
  constructor(
    readonly used: number,
    readonly limit: number,
  ) {
    super('activation limit');
  }
}
