import type Database from 'better-sqlite3';
import { LOG_OFFSET } from './log-chain.js';
import type { Checkpoint } from './log-checkpoint.js';
import { MAX_UNSIGNED_MS, type LogProblem } from './log-verify.js';

/** The first version of host.db with the witnesses (migration 7: log:offset, every setting in the log). */
const WITNESS_VERSION = 7;

/**
 * Each row of `settings` against the newest settings_log record of its name: the host writes
 * both in one transaction, and restates a setting before pruning its last record (and once at
 * migration 7), so an intact log always holds the value in force.
 */
function settingProblems(db: Database.Database): LogProblem[] {
  const rows = db
    .prepare(
      `SELECT s.name, s.value, l.id, l.seq, l.new_value FROM settings s
       LEFT JOIN settings_log l ON l.id = (SELECT max(id) FROM settings_log WHERE name = s.name) ORDER BY s.name`,
    )
    .all() as { name: string; value: string; id: number | null; seq: number | null; new_value: string | null }[];
  const out: LogProblem[] = [];
  for (const r of rows)
    if (r.id === null)
      out.push({
        kind: 'setting',
        seq: null,
        id: null,
        problem: 'edited',
        detail: `setting ${r.name} is stored without a record in the log: the settings table was edited`,
      });
    else if (r.new_value !== r.value)
      out.push({
        kind: 'setting',
        seq: r.seq,
        id: r.id,
        problem: 'edited',
        detail: `setting ${r.name} is ${r.value} in the settings table, but its newest record sets ${r.new_value}: the settings table was edited`,
      });
  return out;
}

/**
 * What the host keeps beside the chain that must agree with it (docs/operations.md#verifying-the-host-log):
 * counters `total` (one per event, in the batch that chains it) plus `log:offset` (one per
 * settings record) is the head's seq; and no machine was seen more than 25 hours after the
 * newest checkpoint. Records cut from the end together with the checkpoints after them are
 * found by these, unless those tables were edited to match as well.
 */
export function witnessProblems(
  db: Database.Database,
  version: number,
  head: number,
  newest: Checkpoint | undefined,
): LogProblem[] {
  const out: LogProblem[] = [];
  const seen = db.prepare('SELECT max(last_seen) AS t FROM machines').get() as { t: number | null };
  if (newest && seen.t !== null && seen.t > newest.at + MAX_UNSIGNED_MS)
    out.push({
      kind: 'checkpoint',
      seq: newest.seq + 1,
      id: null,
      problem: 'deleted',
      detail: `a machine was last seen at ${new Date(seen.t).toISOString()}, more than ${MAX_UNSIGNED_MS / 3_600_000} hours after the newest checkpoint (${new Date(newest.at).toISOString()}): newer checkpoints and records were deleted`,
    });
  if (version < WITNESS_VERSION) return out;
  const n = (name: string) =>
    (db.prepare('SELECT n FROM counters WHERE name = ?').get(name) as { n: number } | undefined)?.n;
  const offset = n(LOG_OFFSET);
  const expected = (n('total') ?? 0) + (offset ?? 0);
  if (offset === undefined || expected < head)
    out.push({
      kind: 'counters',
      seq: head,
      id: null,
      problem: 'edited',
      detail: `counters total + ${LOG_OFFSET} is ${offset === undefined ? `missing ${LOG_OFFSET}` : expected}, but the log's head is record ${head}: the counters table was edited`,
    });
  else if (expected > head)
    out.push({
      kind: 'event',
      seq: head + 1,
      id: null,
      problem: 'deleted',
      detail: `records ${head + 1} to ${expected} are missing from the end: the counters say the host chained ${expected} records (counters total + ${LOG_OFFSET}), the log and its checkpoints reach ${head}`,
    });
  return [...out, ...settingProblems(db)];
}
