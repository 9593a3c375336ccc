import type Database from 'better-sqlite3';

/** Read-side queries of the host's database, for the admin API. */
export type EventQuery = { since?: number; machineId?: string; outcome?: string; limit?: number };
export type MachineQuery = { severalFingerprints?: boolean; limit?: number };

const clampLimit = (limit: number | undefined, fallback: number) => Math.min(Math.max(limit ?? fallback, 1), 100_000);
const iso = (t: unknown) => new Date(t as number).toISOString();

/** Events (the 12290 family) matching the query: the newest `limit`, oldest first. */
export function queryEvents(db: Database.Database, q: EventQuery) {
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
  const rows = db
    .prepare(`SELECT * FROM (SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?) ORDER BY id`)
    .all(...args, clampLimit(q.limit, 1000)) as Record<string, unknown>[];
  return rows.map((r) => ({
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
  }));
}

/** Machines seen, newest first. */
export function queryMachines(db: Database.Database, q: MachineQuery) {
  const rows = db
    .prepare(`SELECT * FROM machines ${q.severalFingerprints ? 'WHERE fingerprints > 1' : ''} ORDER BY last_seen DESC LIMIT ?`)
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

export function rowCounts(db: Database.Database): Record<string, number> {
  const n = (t: string) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n;
  return { machines: n('machines'), events: n('events'), hostKeys: n('host_keys'), counters: n('counters') };
}

export function pruneEvents(db: Database.Database, before: number): number {
  return db.prepare('DELETE FROM events WHERE at < ?').run(before).changes;
}
