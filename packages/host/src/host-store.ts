import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync } from 'node:fs';
import type { DnsEvent, DnsRecord, EventOutcome, ZoneRecords } from './dns-records.js';
import { KeyStore } from './key-store.js';
import { LogChain, addWitnesses, appendSetting, chainExistingEvents, restateSettings } from './log-chain.js';
import type { Checkpoint } from './log-checkpoint.js';

/** Signs a checkpoint (log-checkpoint.ts); the store stores what it is given. */
export type CheckpointSign = (c: Omit<Checkpoint, 'hostId'>) => string;

/** The schema, one migration per version (user_version); exported so tests can build old databases. */
export const migrations = [
  `CREATE TABLE machines (
     machine_id TEXT PRIMARY KEY, fingerprint_hash TEXT NOT NULL, first_seen INTEGER NOT NULL,
     last_seen INTEGER NOT NULL, requests INTEGER NOT NULL, edition INTEGER NOT NULL, vm INTEGER NOT NULL,
     license_state TEXT NOT NULL, last_outcome TEXT NOT NULL, fingerprints INTEGER NOT NULL DEFAULT 1,
     machine_name TEXT);
   CREATE INDEX machines_last_seen ON machines(last_seen);
   CREATE INDEX machines_fingerprints ON machines(fingerprints) WHERE fingerprints > 1;
   CREATE TABLE count_buckets (hour INTEGER PRIMARY KEY, n INTEGER NOT NULL);
   CREATE TABLE counters (name TEXT PRIMARY KEY, n INTEGER NOT NULL);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, event INTEGER NOT NULL, machine_id TEXT NOT NULL,
     vm INTEGER NOT NULL, license_state TEXT NOT NULL, edition INTEGER NOT NULL, outcome TEXT NOT NULL,
     count INTEGER NOT NULL, required INTEGER NOT NULL, address TEXT);
   CREATE INDEX events_at ON events(at);
   -- no index on events(machine_id): it is written on every request at random places and cost
   -- a fifth of the activation rate (npm run bench:host); per-machine history scans by time.

   CREATE TABLE host_keys (
     id TEXT PRIMARY KEY, product_key TEXT NOT NULL UNIQUE, partial TEXT NOT NULL, group_number INTEGER NOT NULL,
     installed_at INTEGER NOT NULL, request_id TEXT NOT NULL, certificate TEXT, issuer TEXT, activated_at INTEGER);
   CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), jws TEXT NOT NULL, issuer TEXT NOT NULL);
   CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);`,
  // 2: remember whether the current request ID was answered, so a lost reactivation answer is retried for free
  `ALTER TABLE host_keys ADD COLUMN request_answered INTEGER NOT NULL DEFAULT 0;
   UPDATE host_keys SET request_answered = 1 WHERE certificate IS NOT NULL;`,
  // 3: DNS publishing: what was published where (so only our own records are ever deleted) and its events
  `CREATE TABLE dns_published (domain TEXT PRIMARY KEY, server TEXT NOT NULL, records TEXT NOT NULL, published_at INTEGER NOT NULL);
   CREATE TABLE dns_events (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, event INTEGER NOT NULL, domain TEXT NOT NULL, server TEXT NOT NULL,
     rcode TEXT, code TEXT, message TEXT NOT NULL, fix TEXT);`,
  // 4: keep records the DNS server confirmed apart from records sent whose answer was lost (issue
  // 10). What version 3 remembered was written before sending and never rolled back, so it is only
  // known to have been sent: it becomes "unconfirmed" until the next publication confirms it.
  `CREATE TABLE dns_records (
     domain TEXT PRIMARY KEY, server TEXT NOT NULL,
     published TEXT NOT NULL, published_at INTEGER,
     unconfirmed TEXT NOT NULL, sent_at INTEGER);
   INSERT INTO dns_records (domain, server, published, published_at, unconfirmed, sent_at)
     SELECT domain, server, '[]', NULL, records, published_at FROM dns_published;
   DROP TABLE dns_published;
   ALTER TABLE dns_events ADD COLUMN outcome TEXT;`,
  // 5: no index on the machine ID (issue 10): machine IDs are random, so each new machine landed
  // on a random leaf of that index, read, logged and checkpointed (with a million machines 12 µs
  // of each activation's 98). The host finds a machine's row through an index in memory
  // (machine-index.ts) keyed by a 48-bit hash of its ID, stored here so that a start reads it
  // without hashing every ID again. The hash is keyed with a secret of this host's, so no client
  // can pick IDs that share one. A machine ID is still unique: the activation batch looks it up
  // before it inserts, in one IMMEDIATE transaction of the one process that writes
  // (HOST_ALREADY_RUNNING). The rows are copied in the order they were last seen.
  `CREATE TABLE machine_hash_key (id INTEGER PRIMARY KEY CHECK (id = 1), key BLOB NOT NULL);
   INSERT INTO machine_hash_key VALUES (1, randomblob(16));
   CREATE TABLE machines_v5 (
     id INTEGER PRIMARY KEY, machine_id TEXT NOT NULL, id_hash INTEGER NOT NULL,
     fingerprint_hash TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
     requests INTEGER NOT NULL, edition INTEGER NOT NULL, vm INTEGER NOT NULL, license_state TEXT NOT NULL,
     last_outcome TEXT NOT NULL, fingerprints INTEGER NOT NULL DEFAULT 1, machine_name TEXT);
   INSERT INTO machines_v5 (machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm, license_state, last_outcome, fingerprints, machine_name)
     SELECT machine_id, volact_id_hash((SELECT key FROM machine_hash_key), machine_id), fingerprint_hash, first_seen, last_seen, requests, edition, vm, license_state, last_outcome, fingerprints, machine_name
     FROM machines ORDER BY last_seen;
   DROP TABLE machines;
   ALTER TABLE machines_v5 RENAME TO machines;
   CREATE INDEX machines_last_seen ON machines(last_seen);
   CREATE INDEX machines_fingerprints ON machines(fingerprints) WHERE fingerprints > 1;`,
  // 6: the tamper-evident log (issue 14): events and settings changes in one hash chain
  // (log-chain.ts), and checkpoints signed with the host's key. The events stored before are
  // chained once, in this migration's transaction (chainExistingEvents). No index on seq: the
  // chain is walked in rowid order, which is seq order within each table.
  `ALTER TABLE events ADD COLUMN seq INTEGER;
   ALTER TABLE events ADD COLUMN prev BLOB;
   ALTER TABLE events ADD COLUMN hash BLOB;
   CREATE TABLE settings_log (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, name TEXT NOT NULL, old_value TEXT, new_value TEXT NOT NULL,
     seq INTEGER NOT NULL, prev BLOB NOT NULL, hash BLOB NOT NULL);
   CREATE TABLE log_checkpoints (id INTEGER PRIMARY KEY, seq INTEGER NOT NULL, at INTEGER NOT NULL, jws TEXT NOT NULL);
   CREATE INDEX log_checkpoints_seq ON log_checkpoints(seq);`,
  // 7: the log's witnesses (docs/operations.md#verifying-the-host-log): the counter log:offset,
  // and a settings_log record for every setting stored without one (before migration 6).
  `SELECT 1;`,
  // 8: the host console (issue 15): its tokens (only the SHA-256 of each secret) and one sample
  // of the count per hour for its chart, so the chart never scans the machines.
  `CREATE TABLE console_tokens (
     id TEXT PRIMARY KEY, name TEXT NOT NULL, scope TEXT NOT NULL CHECK (scope IN ('read', 'admin')),
     hash BLOB NOT NULL, created_at INTEGER NOT NULL, revoked_at INTEGER);
   CREATE TABLE count_samples (hour INTEGER PRIMARY KEY, n INTEGER NOT NULL);`,
];

/** What a migration needs beyond its SQL, run in its transaction: by the version it makes. */
const afterMigration: Record<number, (db: Database.Database) => void> = {
  6: chainExistingEvents,
  7: addWitnesses,
};

/** The index key of a machine ID: the first 48 bits of SHA-256(host's key, ID), a safe integer. */
export function machineIdHash(key: Buffer, machineId: string): number {
  return createHash('sha256').update(key).update(machineId).digest().readUIntBE(0, 6);
}

/** The machine ID hash of this database (its key read once). */
export function machineIdHasher(db: Database.Database): (machineId: string) => number {
  const { key } = db.prepare('SELECT key FROM machine_hash_key WHERE id = 1').get() as { key: Buffer };
  return (machineId) => machineIdHash(key, machineId);
}

/** Opens (and migrates) the host's SQLite file: WAL, durable against a crash of the process. */
export function openHostDb(path: string): Database.Database {
  const fresh = !existsSync(path);
  const db = new Database(path);
  if (fresh) chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a commit survives kill -9 (the WAL is written before we answer); only
  // an OS crash or power loss can lose the last transactions.
  db.pragma('synchronous = NORMAL');
  // Checkpoint every 10,000 WAL pages (about 40 MB) instead of SQLite's 1,000: checkpoints run
  // inside a commit on the activation path (copy + fsync); rarer ones copy each hot index page
  // once for many commits (bench:host: roughly 15 µs less per activation). Durability is the same.
  db.pragma('wal_autocheckpoint = 10000');
  // Keep the WAL file from staying large after an unusually long one (readers holding it).
  db.pragma('journal_size_limit = 67108864');
  db.pragma('busy_timeout = 5000');
  db.function('volact_id_hash', { deterministic: true }, (key: unknown, id: unknown) =>
    machineIdHash(key as Buffer, String(id)),
  );
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      afterMigration[v + 1]?.(db);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return db;
}

export type { InstalledKey, Signed } from './key-store.js';

export type EventQuery = { since?: number; machineId?: string; outcome?: string; limit?: number };
export type MachineQuery = { severalFingerprints?: boolean; limit?: number };

type ZoneRow = {
  domain: string;
  server: string;
  published: string;
  published_at: number | null;
  unconfirmed: string;
  sent_at: number | null;
};

const toZone = (r: ZoneRow): ZoneRecords => ({
  domain: r.domain,
  server: r.server,
  published: JSON.parse(r.published) as DnsRecord[],
  publishedAt: r.published_at,
  unconfirmed: JSON.parse(r.unconfirmed) as DnsRecord[],
  sentAt: r.sent_at,
});

const clampLimit = (limit: number | undefined, fallback: number) => Math.min(Math.max(limit ?? fallback, 1), 100_000);
const iso = (t: unknown) => new Date(t as number).toISOString();

/** An events row as the admin API and the console show it. */
export function eventRow(r: Record<string, unknown>) {
  return {
    id: r.id as number,
    event: r.event as number,
    at: iso(r.at),
    machineId: r.machine_id as string,
    vm: r.vm === 1,
    licenseState: r.license_state as string,
    edition: r.edition as number,
    outcome: r.outcome as string,
    count: r.count as number,
    required: r.required as number,
    address: r.address as string | null,
  };
}

/**
 * Everything the host keeps, but the activation path's own statements: keys, catalog, settings,
 * events, machines as the admin API lists them, and DNS records. The activation batch and the
 * machine counter prepare theirs once and keep them (activation-batch.ts, machine-counter.ts):
 * they run for every request; these run for an operator's command or once at start.
 */
export class HostStore extends KeyStore {
  // --- events and machines, for the admin API ------------------------------------------------

  /** Events (the 12290 family) matching the query: the newest `limit`, oldest first. */
  events(q: EventQuery) {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.since !== undefined) {
      where.push('at >= ?');
      args.push(q.since);
    }
    if (q.machineId) {
      where.push('machine_id = ?');
      args.push(q.machineId);
    }
    if (q.outcome) {
      where.push('outcome = ?');
      args.push(q.outcome);
    }
    const rows = this.db
      .prepare(
        `SELECT * FROM (SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?) ORDER BY id`,
      )
      .all(...args, clampLimit(q.limit, 1000)) as Record<string, unknown>[];
    return rows.map(eventRow);
  }

  /**
   * Stores a setting and, when its value changes, chains the change (name, old and new value,
   * time) in the same transaction: the host log records every settings change.
   */
  writeSetting(name: string, value: unknown, at: number): void {
    const text = JSON.stringify(value);
    const chain = LogChain.of(this.db);
    const mark = chain.mark();
    try {
      this.db.transaction(() => {
        const old = this.db.prepare('SELECT value FROM settings WHERE name = ?').get(name) as
          { value: string } | undefined;
        if (old?.value === text) return;
        this.storeSetting(name, value);
        appendSetting(this.db, chain, [at, name, old?.value ?? null, text]);
      })();
    } catch (err) {
      chain.reset(mark);
      throw err;
    }
  }

  /** The seq of the log's last record (0 before the first). */
  logHead(): number {
    return LogChain.of(this.db).seq;
  }

  /** The newest checkpoint written (by time), if any. */
  lastCheckpoint(): { seq: number; at: number } | undefined {
    return this.db.prepare('SELECT seq, at FROM log_checkpoints ORDER BY at DESC, id DESC LIMIT 1').get() as
      { seq: number; at: number } | undefined;
  }

  /** The first seq still kept (after pruning), or undefined when no record is kept. */
  private firstSeq(): number | undefined {
    const rows = [
      this.db.prepare('SELECT seq FROM events WHERE seq IS NOT NULL ORDER BY id LIMIT 1').get(),
      this.db.prepare('SELECT seq FROM settings_log ORDER BY id LIMIT 1').get(),
    ] as ({ seq: number } | undefined)[];
    const seqs = rows.filter((r) => r !== undefined).map((r) => r.seq);
    return seqs.length ? Math.min(...seqs) : undefined;
  }

  /** Signs and stores a checkpoint of the chain's head now. */
  writeCheckpoint(sign: CheckpointSign, at: number): { seq: number } {
    const chain = LogChain.of(this.db);
    const seq = chain.seq;
    const jws = sign({ seq, hash: chain.head.toString('base64url'), firstSeq: this.firstSeq() ?? seq + 1, at });
    this.db.prepare('INSERT INTO log_checkpoints (seq, at, jws) VALUES (?, ?, ?)').run(seq, at, jws);
    return { seq };
  }

  /**
   * Prunes the log from the front: every record up to the last one older than `before` (events
   * and settings changes alike, so the records kept stay one unbroken run), after a checkpoint of
   * that last record, which anchors the first record kept. Older checkpoints go too.
   */
  pruneEvents(before: number, sign: CheckpointSign, at: number): number {
    const chain = LogChain.of(this.db);
    const mark = chain.mark();
    try {
      return this.pruneLog(chain, before, sign, at);
    } catch (err) {
      chain.reset(mark);
      throw err;
    }
  }

  private pruneLog(chain: LogChain, before: number, sign: CheckpointSign, at: number): number {
    return this.db.transaction(() => {
      const q = (sql: string) => this.db.prepare(sql).get(before) as { seq: number; hash: Buffer } | undefined;
      const e = q('SELECT seq, hash FROM events WHERE id = (SELECT max(id) FROM events WHERE at < ?)');
      const s = q('SELECT seq, hash FROM settings_log WHERE at < ? ORDER BY seq DESC LIMIT 1');
      const cut = !e ? s : !s ? e : e.seq > s.seq ? e : s;
      if (!cut) return 0;
      // a setting whose last record goes is restated first (after the head, never pruned here)
      restateSettings(this.db, chain, cut.seq, at);
      const jws = sign({ seq: cut.seq, hash: cut.hash.toString('base64url'), firstSeq: cut.seq + 1, at });
      this.db.prepare('INSERT INTO log_checkpoints (seq, at, jws) VALUES (?, ?, ?)').run(cut.seq, at, jws);
      const next = this.db.prepare('SELECT id FROM events WHERE seq > ? ORDER BY id LIMIT 1').get(cut.seq) as
        { id: number } | undefined;
      const n = next
        ? this.db.prepare('DELETE FROM events WHERE id < ?').run(next.id).changes
        : this.db.prepare('DELETE FROM events').run().changes;
      this.db.prepare('DELETE FROM settings_log WHERE seq <= ?').run(cut.seq);
      this.db.prepare('DELETE FROM log_checkpoints WHERE seq < ?').run(cut.seq);
      return n;
    })();
  }

  /** Machines seen, newest first. */
  machines(q: MachineQuery) {
    const rows = this.db
      .prepare(
        `SELECT * FROM machines ${q.severalFingerprints ? 'WHERE fingerprints > 1' : ''} ORDER BY last_seen DESC LIMIT ?`,
      )
      .all(clampLimit(q.limit, 100)) as Record<string, unknown>[];
    return rows.map((r) => ({
      machineId: r.machine_id as string,
      machineName: (r.machine_name as string | null) ?? null,
      firstSeen: iso(r.first_seen),
      lastSeen: iso(r.last_seen),
      requests: r.requests as number,
      edition: r.edition as number,
      vm: r.vm === 1,
      licenseState: r.license_state as string,
      lastOutcome: r.last_outcome as string,
      fingerprints: r.fingerprints as number,
    }));
  }

  /** Machine IDs seen with more than one fingerprint (cloned images); the partial index keeps this small. */
  machinesWithSeveralFingerprints(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM machines WHERE fingerprints > 1').get() as { n: number }).n;
  }

  rowCounts(): Record<string, number> {
    const n = (t: string) => (this.db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { machines: n('machines'), events: n('events'), hostKeys: n('host_keys'), counters: n('counters') };
  }

  // --- DNS publishing: the host's memory of its own records, and their events ----------------

  dnsZones(): ZoneRecords[] {
    return (this.db.prepare('SELECT * FROM dns_records ORDER BY domain').all() as ZoneRow[]).map(toZone);
  }

  dnsZone(domain: string): ZoneRecords | undefined {
    const row = this.db.prepare('SELECT * FROM dns_records WHERE domain = ?').get(domain) as ZoneRow | undefined;
    return row ? toZone(row) : undefined;
  }

  /** Stores one zone's memory; a zone with nothing left in it is forgotten. */
  putDnsZone(z: ZoneRecords): void {
    if (z.published.length === 0 && z.unconfirmed.length === 0) {
      this.db.prepare('DELETE FROM dns_records WHERE domain = ?').run(z.domain);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO dns_records (domain, server, published, published_at, unconfirmed, sent_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(domain) DO UPDATE SET server = excluded.server, published = excluded.published, published_at = excluded.published_at,
           unconfirmed = excluded.unconfirmed, sent_at = excluded.sent_at`,
      )
      .run(
        z.domain,
        z.server,
        JSON.stringify(z.published),
        z.published.length ? z.publishedAt : null,
        JSON.stringify(z.unconfirmed),
        z.unconfirmed.length ? z.sentAt : null,
      );
  }

  addDnsEvent(at: number, e: DnsEvent): void {
    this.db
      .prepare(
        'INSERT INTO dns_events (at, event, domain, server, rcode, code, message, fix, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      )
      .run(at, e.event, e.domain, e.server, e.rcode, e.code, e.message, e.fix, e.outcome);
  }

  pruneDnsEvents(before: number): void {
    this.db.prepare('DELETE FROM dns_events WHERE at < ?').run(before);
  }

  /** The newest `limit` DNS events, oldest first. */
  dnsEvents(limit: number) {
    return (
      this.db
        .prepare('SELECT * FROM (SELECT * FROM dns_events ORDER BY id DESC LIMIT ?) ORDER BY id')
        .all(limit) as Record<string, unknown>[]
    ).map((r) => ({
      id: r.id as number,
      event: r.event as number,
      at: iso(r.at),
      domain: r.domain as string,
      server: r.server as string,
      rcode: r.rcode as string | null,
      code: r.code as string | null,
      message: r.message as string,
      fix: r.fix as string | null,
      outcome: (r.outcome as EventOutcome | null) ?? null,
    }));
  }
}
