import Database from 'better-sqlite3';
import { chmodSync, existsSync } from 'node:fs';
import { KeyStore, keyTablesSql } from '@volact/host';

/** The agent's schema, one migration per version (user_version). */
export const agentMigrations = [
  `${keyTablesSql}
   CREATE TABLE guests (
     vm_uuid TEXT PRIMARY KEY, vm_name TEXT NOT NULL, machine_id TEXT, machine_name TEXT, edition INTEGER,
     mac TEXT, address TEXT, first_seen INTEGER NOT NULL, last_request INTEGER NOT NULL,
     last_outcome TEXT NOT NULL, last_reason TEXT, granted_until INTEGER, requests INTEGER NOT NULL);
   CREATE TABLE events (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, event INTEGER NOT NULL, vm_uuid TEXT, machine_id TEXT,
     edition INTEGER, outcome TEXT NOT NULL, reason TEXT, code TEXT, address TEXT, mac TEXT);
   CREATE INDEX events_at ON events(at);`,
];

/** Opens (and migrates) hypervisor.db: WAL, 0600 when made here. */
export function openAgentDb(path: string): Database.Database {
  const fresh = !existsSync(path);
  const db = new Database(path);
  if (fresh) chmodSync(path, 0o600);
  db.pragma('journal_mode = WAL');
  // a commit survives kill -9; only an OS crash can lose the last ones (a guest then just asks again)
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  for (let v = version; v < agentMigrations.length; v++) {
    db.transaction(() => {
      db.exec(agentMigrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
  return db;
}

/** What the guest channel decided for one request. */
export type GuestOutcome = 'success' | 'invalidHost' | 'invalidData' | 'denied';

/** One request on the guest channel (event 12310), as recorded. */
export type GuestEvent = {
  at: number;
  event: 12310;
  vmUuid: string | null;
  machineId: string | null;
  edition: number | null;
  outcome: GuestOutcome;
  reason: string | null;
  code: string | null;
  address: string | null;
  mac: string | null;
};

/** A VM of the inventory that asked, as `volact hypervisor guests` lists it. */
export type GuestRow = {
  vmUuid: string;
  vmName: string;
  machineId: string | null;
  machineName: string | null;
  edition: number | null;
  mac: string | null;
  address: string | null;
  firstSeen: number;
  lastRequest: number;
  lastOutcome: GuestOutcome;
  lastReason: string | null;
  grantedUntil: number | null;
  requests: number;
};

export type GuestEventQuery = { since?: number; vmUuid?: string; outcome?: string; limit?: number };

type EventRow = {
  at: number;
  event: 12310;
  vm_uuid: string | null;
  machine_id: string | null;
  edition: number | null;
  outcome: GuestOutcome;
  reason: string | null;
  code: string | null;
  address: string | null;
  mac: string | null;
};

/** The agent's store: its keys, catalog and settings (KeyStore), its guests and their events. */
/** At most this many events are kept (about 300 MB), whatever their age: each is a guest request. */
export const MAX_EVENTS = 1_000_000;

export class AgentStore extends KeyStore {
  writeSetting(name: string, value: unknown): void {
    this.storeSetting(name, value);
  }

  /**
   * Records one request: its event, and for a VM of the inventory its guest row, in one
   * transaction. A grant extends `granted_until`; a later refusal does not shorten what the guest
   * already holds.
   */
  record(e: GuestEvent, guest?: { vmName: string; machineName: string | null; grantedUntil: number | null }): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO events (at, event, vm_uuid, machine_id, edition, outcome, reason, code, address, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        )
        .run(e.at, e.event, e.vmUuid, e.machineId, e.edition, e.outcome, e.reason, e.code, e.address, e.mac);
      if (!guest || !e.vmUuid) return;
      this.db
        .prepare(
          `INSERT INTO guests (vm_uuid, vm_name, machine_id, machine_name, edition, mac, address, first_seen,
             last_request, last_outcome, last_reason, granted_until, requests)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
           ON CONFLICT(vm_uuid) DO UPDATE SET vm_name = excluded.vm_name,
             machine_id = COALESCE(excluded.machine_id, machine_id),
             machine_name = COALESCE(excluded.machine_name, machine_name),
             edition = COALESCE(excluded.edition, edition), mac = excluded.mac, address = excluded.address,
             last_request = excluded.last_request, last_outcome = excluded.last_outcome,
             last_reason = excluded.last_reason,
             granted_until = MAX(COALESCE(excluded.granted_until, 0), COALESCE(granted_until, 0)),
             requests = requests + 1`,
        )
        .run(
          e.vmUuid,
          guest.vmName,
          e.machineId,
          guest.machineName,
          e.edition,
          e.mac,
          e.address,
          e.at,
          e.at,
          e.outcome,
          e.reason,
          guest.grantedUntil,
        );
    })();
  }

  guests(): GuestRow[] {
    const rows = this.db.prepare('SELECT * FROM guests ORDER BY vm_name, vm_uuid').all() as Record<string, unknown>[];
    return rows.map((r) => ({
      vmUuid: r.vm_uuid as string,
      vmName: r.vm_name as string,
      machineId: r.machine_id as string | null,
      machineName: r.machine_name as string | null,
      edition: r.edition as number | null,
      mac: r.mac as string | null,
      address: r.address as string | null,
      firstSeen: r.first_seen as number,
      lastRequest: r.last_request as number,
      lastOutcome: r.last_outcome as GuestOutcome,
      lastReason: r.last_reason as string | null,
      grantedUntil: (r.granted_until as number | null) || null,
      requests: r.requests as number,
    }));
  }

  /** Events, oldest first: the newest `limit` (default 1000) of those matching. */
  events(q: GuestEventQuery): GuestEvent[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (q.since !== undefined) (where.push('at >= ?'), args.push(q.since));
    if (q.vmUuid !== undefined) (where.push('vm_uuid = ?'), args.push(q.vmUuid));
    if (q.outcome !== undefined) (where.push('outcome = ?'), args.push(q.outcome));
    const rows = this.db
      .prepare(
        `SELECT * FROM (SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?) ORDER BY id`,
      )
      .all(...args, q.limit ?? 1000) as EventRow[];
    return rows.map((r) => ({
      at: r.at,
      event: r.event,
      vmUuid: r.vm_uuid,
      machineId: r.machine_id,
      edition: r.edition,
      outcome: r.outcome,
      reason: r.reason,
      code: r.code,
      address: r.address,
      mac: r.mac,
    }));
  }

  /** Requests by outcome since the agent's database was made, and guests by their last outcome. */
  tallies(): { requests: Record<string, number>; guests: Record<string, number> } {
    const count = (sql: string) =>
      Object.fromEntries((this.db.prepare(sql).all() as { k: string; n: number }[]).map((r) => [r.k, r.n]));
    return {
      requests: count('SELECT outcome AS k, COUNT(*) AS n FROM events GROUP BY outcome'),
      guests: count('SELECT last_outcome AS k, COUNT(*) AS n FROM guests GROUP BY last_outcome'),
    };
  }

  /** Drops events older than `before`, and the oldest beyond `keep` rows, so the log stays bounded. */
  pruneEvents(before: number, keep = MAX_EVENTS): number {
    return this.db.transaction(
      () =>
        this.db.prepare('DELETE FROM events WHERE at < ?').run(before).changes +
        this.db.prepare('DELETE FROM events WHERE id <= (SELECT MAX(id) FROM events) - ?').run(keep).changes,
    )();
  }
}
