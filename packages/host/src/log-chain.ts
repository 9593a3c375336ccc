import type Database from 'better-sqlite3';
import * as crypto from 'node:crypto';

/**
 * The host log's hash chain (docs/operations.md#verifying-the-host-log): activation events
 * (12290, table `events`) and settings changes (table `settings_log`) share one sequence. Each
 * record stores `seq`, `prev` (the hash of the record before it; 32 zero bytes before the first)
 * and `hash`, the SHA-256 of a canonical encoding of (seq, prev, every field of the record).
 */

/** The hash before the first record of a chain. */
export const GENESIS = Buffer.alloc(32);

/** The fields of an activation event, in the order they are hashed (the events table's columns). */
export const eventFields = [
  'at',
  'event',
  'machine_id',
  'vm',
  'license_state',
  'edition',
  'outcome',
  'count',
  'required',
  'address',
] as const;
/** The fields of a settings change, in the order they are hashed (old_value is null for a first value). */
export const settingFields = ['at', 'name', 'old_value', 'new_value'] as const;

export type LogKind = 'event' | 'setting';
export type FieldValue = string | number | null;

/** SHA-256 in one call where Node has it (20.12 and later: half the cost of a Hash object). */
const sha256: (text: string) => Buffer =
  typeof crypto.hash === 'function'
    ? (text) => crypto.hash('sha256', text, 'buffer')
    : (text) => crypto.createHash('sha256').update(text).digest();

/**
 * SHA-256 over a JSON array: a version tag, the kind, seq, prev (base64url) and the fields as
 * SQLite returns them (integers, text or null). JSON makes it unambiguous: no two different
 * records encode alike, whatever their strings hold. The text is exactly
 * JSON.stringify(['volact.log/1', kind, seq, prev, ...fields]), put together here without the
 * spread (the activation path runs it for every request; fields are never empty).
 */
export function recordHash(kind: LogKind, seq: number, prev: Buffer, fields: readonly FieldValue[]): Buffer {
  return sha256(`["volact.log/1","${kind}",${seq},"${prev.toString('base64url')}",${JSON.stringify(fields).slice(1)}`);
}

/** One record's place in the chain, as stored beside its fields. */
export type Link = { seq: number; prev: Buffer; hash: Buffer };

const chains = new WeakMap<Database.Database, LogChain>();

/**
 * The chain's head (last seq and hash) in memory. Records are linked inside the transaction that
 * inserts them; a transaction that rolls back puts the head back (`mark`/`reset`), so a crash or a
 * failed batch never leaves a hash for a row that was not committed. One head per connection:
 * the activation batch and the settings writes take the same one (`LogChain.of`).
 */
export class LogChain {
  private constructor(
    public seq: number,
    public head: Buffer,
  ) {}

  /** The one chain of this connection, its head read from the newest record or checkpoint. */
  static of(db: Database.Database): LogChain {
    let chain = chains.get(db);
    if (!chain) {
      chain = LogChain.read(db);
      chains.set(db, chain);
    }
    return chain;
  }

  /** The head as stored: the highest seq among the last event, the last setting and the checkpoints. */
  static read(db: Database.Database): LogChain {
    const rows = [
      db.prepare('SELECT seq, hash FROM events WHERE seq IS NOT NULL ORDER BY id DESC LIMIT 1').get(),
      db.prepare('SELECT seq, hash FROM settings_log ORDER BY id DESC LIMIT 1').get(),
    ] as ({ seq: number; hash: Buffer } | undefined)[];
    // after pruning everything, the head is the newest checkpoint's (the hash is in its payload)
    const c = db.prepare('SELECT jws FROM log_checkpoints ORDER BY seq DESC LIMIT 1').get() as
      { jws: string } | undefined;
    try {
      if (c) {
        const p = JSON.parse(Buffer.from(c.jws.split('.')[1]!, 'base64url').toString('utf8')) as {
          seq: number;
          hash: string;
        };
        if (Number.isSafeInteger(p.seq)) rows.push({ seq: p.seq, hash: Buffer.from(String(p.hash), 'base64url') });
      }
    } catch {
      // a damaged checkpoint never stops the host: verify-log names it
    }
    let best: { seq: number; hash: Buffer } = { seq: 0, hash: GENESIS };
    for (const r of rows) if (r && r.seq > best.seq) best = r;
    return new LogChain(best.seq, Buffer.from(best.hash));
  }

  /** Links the next record: its seq, prev and hash; the head moves on. */
  link(kind: LogKind, fields: readonly FieldValue[]): Link {
    const seq = this.seq + 1;
    const prev = this.head;
    const hash = recordHash(kind, seq, prev, fields);
    this.seq = seq;
    this.head = hash;
    return { seq, prev, hash };
  }

  mark(): { seq: number; head: Buffer } {
    return { seq: this.seq, head: this.head };
  }

  reset(m: { seq: number; head: Buffer }): void {
    this.seq = m.seq;
    this.head = m.head;
  }
}

/**
 * Links the events that were stored before the chain existed (migration 6), oldest first, so
 * that the whole table is chained; run once, in the migration's transaction.
 */
export function chainExistingEvents(db: Database.Database): void {
  const chain = LogChain.read(db);
  const rows = db.prepare(`SELECT id, ${eventFields.join(', ')} FROM events ORDER BY id`);
  const set = db.prepare('UPDATE events SET seq = ?, prev = ?, hash = ? WHERE id = ?');
  const links: [number, Link][] = [];
  for (const r of rows.iterate() as Iterable<Record<string, FieldValue>>)
    links.push([
      r.id as number,
      chain.link(
        'event',
        eventFields.map((f) => r[f]!),
      ),
    ]);
  for (const [id, l] of links) set.run(l.seq, l.prev, l.hash, id);
}

/**
 * The counter that makes `counters` a witness of the chain's length: the chain's records that no
 * request counted (settings records; at migration 7, the head minus `total`), so that
 * head seq = total + log:offset. Kept in the transaction that chains each record.
 */
export const LOG_OFFSET = 'log:offset';

/** Chains a settings record and counts it in log:offset; the caller holds the transaction. */
export function appendSetting(db: Database.Database, chain: LogChain, fields: [number, string, string | null, string]) {
  const l = chain.link('setting', fields);
  db.prepare(
    `INSERT INTO settings_log (${settingFields.join(', ')}, seq, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  ).run(...fields, l.seq, l.prev, l.hash);
  db.prepare('INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT(name) DO UPDATE SET n = n + 1').run(LOG_OFFSET);
}

/**
 * Restates (old value = new value) every setting whose newest settings_log record is at or
 * before `seq` or missing: each setting then keeps a record of its value in the log, which
 * verify-log compares the settings table with, after a prune or the migration.
 */
export function restateSettings(db: Database.Database, chain: LogChain, seq: number, at: number): void {
  const rows = db
    .prepare(
      `SELECT s.name, s.value FROM settings s
       WHERE coalesce((SELECT max(l.seq) FROM settings_log l WHERE l.name = s.name), 0) <= ? ORDER BY s.name`,
    )
    .all(seq) as { name: string; value: string }[];
  for (const r of rows) appendSetting(db, chain, [at, r.name, r.value, r.value]);
}

/** Migration 7: log:offset from the head and `total`, then every setting not in the log restated. */
export function addWitnesses(db: Database.Database): void {
  const chain = LogChain.read(db);
  const total = db.prepare("SELECT n FROM counters WHERE name = 'total'").get() as { n: number } | undefined;
  db.prepare('INSERT INTO counters (name, n) VALUES (?, ?)').run(LOG_OFFSET, chain.seq - (total?.n ?? 0));
  restateSettings(db, chain, chain.seq, Date.now());
}
