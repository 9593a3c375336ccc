import type Database from 'better-sqlite3';
import type { KeyObject } from 'node:crypto';
import { GENESIS, eventFields, recordHash, settingFields, type FieldValue, type LogKind } from './log-chain.js';
import { verifyCheckpoint, type Checkpoint } from './log-checkpoint.js';
import { witnessProblems } from './log-witness.js';

/** What is wrong with the first bad record: edited, deleted, reordered, inserted, or a checkpoint that fails. */
export type LogProblem = {
  /** counters: the table that witnesses the chain's length disagrees with it (docs/operations.md). */
  kind: LogKind | 'checkpoint' | 'counters';
  /** The record's place in the chain (for a checkpoint: the seq it signs). */
  seq: number | null;
  /** Its row ID in its table (events, settings_log or log_checkpoints). */
  id: number | null;
  problem: 'edited' | 'deleted' | 'reordered' | 'inserted' | 'checkpoint';
  detail: string;
};

export type LogReport = {
  intact: boolean;
  records: number;
  firstSeq: number | null;
  lastSeq: number | null;
  checkpoints: number;
  /** The newest checkpoint: compare with the newest "log checkpoint" line of the host's journal. */
  newestCheckpoint: { seq: number; hash: string; at: string } | null;
  /** Records after the newest checkpoint: chained, but not yet signed. */
  unsigned: number;
  /** The first bad record, by seq, when the log is not intact. */
  first?: LogProblem;
};

type Row = { id: number; seq: number | null; prev: Buffer | null; hash: Buffer | null; fields: FieldValue[] };
type Source = { kind: LogKind; next: () => Row | undefined; close: () => void; lastSeq: number };

const tables: Record<LogKind, { table: string; fields: readonly string[] }> = {
  event: { table: 'events', fields: eventFields },
  setting: { table: 'settings_log', fields: settingFields },
};

function source(db: Database.Database, kind: LogKind): Source {
  const { table, fields } = tables[kind];
  const it = db
    .prepare(`SELECT id, seq, prev, hash, ${fields.join(', ')} FROM ${table} ORDER BY id`)
    .iterate() as IterableIterator<Record<string, FieldValue | Buffer>>;
  return {
    kind,
    lastSeq: -Infinity,
    close: () => void it.return?.(),
    next: () => {
      const r = it.next();
      if (r.done) return undefined;
      const v = r.value;
      return {
        id: v.id as number,
        seq: v.seq as number | null,
        prev: v.prev as Buffer | null,
        hash: v.hash as Buffer | null,
        fields: fields.map((f) => v[f] as FieldValue),
      };
    },
  };
}

/** For an edited record: the record whose place its content hashes to, when two swapped contents. */
function movedFrom(db: Database.Database, kind: LogKind, row: Row): number | undefined {
  const { table } = tables[kind];
  const rows = db.prepare(`SELECT seq, prev, hash FROM ${table} WHERE id != ?`).iterate(row.id) as IterableIterator<{
    seq: number;
    prev: Buffer;
    hash: Buffer;
  }>;
  for (const r of rows)
    if (r.prev && r.hash && recordHash(kind, r.seq, r.prev, row.fields).equals(r.hash)) return r.seq;
  return undefined;
}

/** Where a record with this seq is stored, if anywhere (a scan: only after a gap was found). */
function stored(db: Database.Database, seq: number): { kind: LogKind; id: number } | undefined {
  for (const kind of ['event', 'setting'] as const) {
    const r = db.prepare(`SELECT id FROM ${tables[kind].table} WHERE seq = ?`).get(seq) as { id: number } | undefined;
    if (r) return { kind, id: r.id };
  }
  return undefined;
}

/** The checkpoints that verify with the host's key, and the first that does not. */
function readCheckpoints(db: Database.Database, publicKey: KeyObject) {
  const valid: (Checkpoint & { id: number })[] = [];
  const problems: LogProblem[] = [];
  const rows = db.prepare('SELECT id, seq, at, jws FROM log_checkpoints ORDER BY id').all() as {
    id: number;
    seq: number;
    at: number;
    jws: string;
  }[];
  for (const r of rows) {
    const bad = (detail: string) =>
      problems.push({ kind: 'checkpoint', seq: r.seq, id: r.id, problem: 'checkpoint', detail });
    try {
      const c = verifyCheckpoint(r.jws, publicKey);
      if (c.seq !== r.seq || c.at !== r.at) bad(`its seq or time column differs from what it signs (seq ${c.seq})`);
      else valid.push({ ...c, id: r.id });
    } catch (err) {
      bad(`it is not signed by this host's key: ${(err as Error).message}`);
    }
  }
  return { valid, problems };
}

type Signed = Map<number, Checkpoint & { id: number }>;

/**
 * The host signs a checkpoint every hour that records were added and at every start: a record
 * this long after the newest checkpoint means newer ones were deleted (25 hours: "at least daily",
 * with an hour to spare for a clock that was set).
 */
export const MAX_UNSIGNED_MS = 25 * 3_600_000;
type Where = { kind: LogKind; seq: number | null; id: number };

/** The first record kept: where the checkpoints say the log starts, and anchored by one. */
function anchorOf(row: Row, at: Where, requiredFirst: number, bySeq: Signed): LogProblem | Buffer {
  const seq = row.seq!;
  if (seq > requiredFirst)
    return {
      ...at,
      seq: requiredFirst,
      problem: 'deleted',
      detail: `records ${requiredFirst} to ${seq - 1} are missing from the front (the log starts at ${requiredFirst})`,
    };
  if (seq < requiredFirst)
    return { ...at, problem: 'inserted', detail: `a checkpoint says records before ${requiredFirst} were pruned` };
  const anchor = seq === 1 ? GENESIS.toString('base64url') : bySeq.get(seq - 1)?.hash;
  if (anchor === undefined)
    return { ...at, problem: 'deleted', detail: `no checkpoint signs record ${seq - 1}, before the first record kept` };
  return Buffer.from(anchor, 'base64url');
}

/** What is wrong with the next record in seq order, if anything. */
function recordProblem(
  db: Database.Database,
  src: Source,
  row: Row,
  expected: number,
  prevHash: Buffer,
  bySeq: Signed,
): LogProblem | undefined {
  const at: Where = { kind: src.kind, seq: row.seq, id: row.id };
  const seq = row.seq!;
  if (seq > expected) {
    const later = stored(db, expected);
    return later
      ? {
          ...later,
          seq: expected,
          problem: 'reordered',
          detail: `it is stored after record ${seq} (${src.kind} ${row.id})`,
        }
      : {
          kind: src.kind,
          seq: expected,
          id: null,
          problem: 'deleted',
          detail: `records ${expected} to ${seq - 1} are missing (next is ${src.kind} ${row.id})`,
        };
  }
  if (seq < expected) return { ...at, problem: 'inserted', detail: `seq ${seq} appears twice` };
  if (!recordHash(src.kind, seq, row.prev!, row.fields).equals(row.hash!)) {
    const other = movedFrom(db, src.kind, row);
    return other === undefined
      ? { ...at, problem: 'edited', detail: 'its fields do not match its hash' }
      : { ...at, problem: 'reordered', detail: `it holds the content of record ${other}` };
  }
  if (!row.prev!.equals(prevHash))
    return {
      kind: src.kind,
      seq: seq - 1,
      id: null,
      problem: 'edited',
      detail: `record ${seq - 1} was changed and hashed again: record ${seq} names another hash`,
    };
  const c = bySeq.get(seq);
  if (c && c.hash !== row.hash!.toString('base64url'))
    return {
      ...at,
      problem: 'checkpoint',
      detail: `the checkpoint of ${new Date(c.at).toISOString()} signed another record ${seq}: the records up to it were rewritten`,
    };
  return undefined;
}

/** Walks both tables in seq order; stops at the first bad record. */
function walk(db: Database.Database, requiredFirst: number, bySeq: Signed, signed: { seq: number; at: number }) {
  const sources = [source(db, 'event'), source(db, 'setting')];
  const heads = sources.map((s) => s.next());
  const out = {
    records: 0,
    firstSeq: null as number | null,
    lastSeq: 0,
    problem: undefined as LogProblem | undefined,
    late: undefined as LogProblem | undefined,
  };
  let expected = 0;
  let prevHash: Buffer = GENESIS;
  try {
    for (;;) {
      // the next record in seq order from whichever table holds it
      let i = -1;
      for (let k = 0; k < heads.length; k++) {
        const h = heads[k];
        if (h && (i < 0 || (h.seq ?? -1) < (heads[i]!.seq ?? -1))) i = k;
      }
      if (i < 0) return out;
      const row = heads[i]!;
      const src = sources[i]!;
      const at: Where = { kind: src.kind, seq: row.seq, id: row.id };
      if (row.seq === null || !row.prev || !row.hash) {
        out.problem = { ...at, problem: 'inserted', detail: 'it carries no place in the chain (seq, prev, hash)' };
        return out;
      }
      if (row.seq <= src.lastSeq) {
        out.problem = { ...at, problem: 'reordered', detail: `it comes after seq ${src.lastSeq} in its table` };
        return out;
      }
      src.lastSeq = row.seq;
      if (out.firstSeq === null) {
        const anchor = anchorOf(row, at, requiredFirst, bySeq);
        if (!Buffer.isBuffer(anchor)) {
          out.problem = anchor;
          return out;
        }
        out.firstSeq = expected = row.seq;
        prevHash = anchor;
      }
      out.problem = recordProblem(db, src, row, expected, prevHash, bySeq);
      if (out.problem) return out;
      if (!out.late && row.seq > signed.seq && (row.fields[0] as number) > signed.at + MAX_UNSIGNED_MS)
        out.late = {
          ...at,
          problem: 'deleted',
          detail: `it was written more than ${MAX_UNSIGNED_MS / 3_600_000} hours after the newest checkpoint; the host signs one at least daily, so newer checkpoints were deleted`,
        };
      prevHash = row.hash;
      out.lastSeq = row.seq;
      expected = row.seq + 1;
      out.records++;
      heads[i] = src.next();
    }
  } finally {
    for (const s of sources) s.close();
  }
}

/**
 * Walks the host log (docs/operations.md#verifying-the-host-log): each record's hash over its
 * fields, its link to the one before, the sequence without gaps and in row order in its table,
 * and every checkpoint against the record it signs. Reads only; names the first bad record.
 */
export function verifyHostLog(db: Database.Database, publicKey: KeyObject): LogReport {
  const version = db.pragma('user_version', { simple: true }) as number;
  const { valid, problems } = readCheckpoints(db, publicKey);
  const bySeq: Signed = new Map();
  for (const c of valid) bySeq.set(c.seq, c);
  const requiredFirst = Math.max(1, ...valid.map((c) => c.firstSeq));
  // with no valid checkpoint, the missing or forged ones are the finding
  const signed = valid.length
    ? { seq: Math.max(...valid.map((c) => c.seq)), at: Math.max(...valid.map((c) => c.at)) }
    : { seq: Infinity, at: Infinity };
  const w = walk(db, requiredFirst, bySeq, signed);
  if (w.late) problems.push(w.late);
  // the host signs one at every start, even of an empty log (seq 0): none at all is a finding
  if (valid.length + problems.length === 0)
    problems.push({
      kind: 'checkpoint',
      seq: w.firstSeq ?? 0,
      id: null,
      problem: 'deleted',
      detail: 'there is no checkpoint: the host signs one at every start, so they were deleted',
    });
  if (w.problem) problems.push(w.problem);
  else
    for (const c of valid)
      if (c.seq > w.lastSeq && c.seq >= requiredFirst)
        problems.push({
          kind: 'checkpoint',
          seq: Math.max(w.lastSeq + 1, requiredFirst),
          id: c.id,
          problem: 'deleted',
          detail: `records up to ${c.seq} are missing from the end: the checkpoint of ${new Date(c.at).toISOString()} signed them`,
        });
  const newest = valid.reduce<(typeof valid)[number] | undefined>(
    (a, c) => (!a || c.at > a.at || (c.at === a.at && c.seq > a.seq) ? c : a),
    undefined,
  );
  const head = Math.max(w.lastSeq, ...valid.map((c) => c.seq));
  problems.push(...witnessProblems(db, version, head, newest));
  problems.sort((a, b) => (a.seq ?? Infinity) - (b.seq ?? Infinity));
  return {
    intact: problems.length === 0,
    records: w.records,
    firstSeq: w.firstSeq,
    lastSeq: w.firstSeq === null ? null : w.lastSeq,
    checkpoints: valid.length,
    newestCheckpoint: newest ? { seq: newest.seq, hash: newest.hash, at: new Date(newest.at).toISOString() } : null,
    unsigned: Math.max(0, w.lastSeq - Math.max(0, ...valid.map((c) => c.seq))),
    ...(problems[0] ? { first: problems[0] } : {}),
  };
}
