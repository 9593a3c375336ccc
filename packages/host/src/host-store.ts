import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';

const migrations = [
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
];

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
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return db;
}
