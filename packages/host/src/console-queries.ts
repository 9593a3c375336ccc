import type Database from 'better-sqlite3';
import { DAY, VolactError, defaults } from '@volact/protocol';

/**
 * The host console's reads of host.db (issue 15): machines paged on the server by keyset (never
 * OFFSET), events newest first by ID, and the hourly count samples of the chart. Every query
 * parameter is checked here and turned into SQL with placeholders only; a bad one is BAD_REQUEST
 * naming the field.
 */

/** What a console shows as a machine's state: its license state as the host last knew it. */
export const consoleStates = ['licensed', 'grace', 'notification', 'unlicensed'] as const;
export type ConsoleState = (typeof consoleStates)[number];

export const machineSorts = {
  lastSeen: 'last_seen',
  firstSeen: 'first_seen',
  name: "coalesce(machine_name, '')",
  requests: 'requests',
} as const;
export type MachineSort = keyof typeof machineSorts;

export type MachineFilter = {
  limit: number;
  cursor?: string;
  q?: string;
  state?: ConsoleState;
  edition?: number;
  kind?: 'client' | 'server';
  vm?: boolean;
  seenWithinDays?: number;
  notSeenForDays?: number;
  severalFingerprints?: boolean;
  sort: MachineSort;
  order: 'desc' | 'asc';
};

export type EditionInfo = { number: number; name: string; kind: 'client' | 'server' };

const bad = (field: string, problem: string) => new VolactError('BAD_REQUEST', { field, problem });

function oneOf<T extends string>(url: URL, name: string, allowed: readonly T[]): T | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  if (!(allowed as readonly string[]).includes(v)) throw bad(name, `must be one of ${allowed.join(', ')}`);
  return v as T;
}

export function intIn(url: URL, name: string, min: number, max: number): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const n = Number(v);
  if (!/^\d{1,10}$/.test(v) || n < min || n > max) throw bad(name, `must be an integer from ${min} to ${max}`);
  return n;
}

/** GET /api/machines' query, checked. */
export function machineFilter(url: URL): MachineFilter {
  const q = url.searchParams.get('q') ?? undefined;
  if (q !== undefined && (q.length > 100 || /[\p{Cc}]/u.test(q)))
    throw bad('q', 'must be at most 100 characters without control characters');
  const vm = oneOf(url, 'vm', ['true', 'false'] as const);
  const fingerprints = oneOf(url, 'fingerprints', ['several'] as const);
  const cursor = url.searchParams.get('cursor') ?? undefined;
  if (cursor !== undefined && cursor.length > 400) throw bad('cursor', 'is not a cursor this host gave');
  return {
    limit: intIn(url, 'limit', 1, 200) ?? 50,
    cursor,
    q: q || undefined,
    state: oneOf(url, 'state', consoleStates),
    edition: intIn(url, 'edition', 0, 1_000_000),
    kind: oneOf(url, 'kind', ['client', 'server'] as const),
    vm: vm === undefined ? undefined : vm === 'true',
    seenWithinDays: intIn(url, 'seenWithinDays', 1, 3650),
    notSeenForDays: intIn(url, 'notSeenForDays', 1, 3650),
    severalFingerprints: fingerprints === 'several',
    sort: oneOf(url, 'sort', Object.keys(machineSorts) as MachineSort[]) ?? 'lastSeen',
    order: oneOf(url, 'order', ['desc', 'asc'] as const) ?? 'desc',
  };
}

/** A grant (activated or renewed) as the last answer: licensed for validityMs from then. */
const GRANTED = "last_outcome IN ('activated', 'renewed')";

/**
 * The console state of a machine row, in SQL: a machine granted last is licensed until its grant
 * runs out (then in notification, as a KMS client whose activation expired), otherwise the
 * state the client reported with its last request. `expiry` is the oldest last_seen still
 * licensed (now - 180 days), a number this code computes, never input.
 */
function stateCase(expiry: number): string {
  return `CASE WHEN ${GRANTED} THEN (CASE WHEN last_seen > ${expiry} THEN 'licensed' ELSE 'notification' END)
    WHEN license_state IN ('initialGrace', 'ootGrace') THEN 'grace' ELSE license_state END`;
}

type Cursor = [string | number, number];

const encodeCursor = (c: Cursor) => Buffer.from(JSON.stringify(c)).toString('base64url');

function decodeCursor(text: string, sort: MachineSort): Cursor {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
    if (
      Array.isArray(c) &&
      c.length === 2 &&
      Number.isSafeInteger(c[1]) &&
      (sort === 'name' ? typeof c[0] === 'string' && c[0].length <= 300 : Number.isSafeInteger(c[0]))
    )
      return c as Cursor;
  } catch {
    // answered below
  }
  throw bad('cursor', 'is not a cursor this host gave (start again without it)');
}

export type MachineRow = {
  machineId: string;
  machineName: string | null;
  firstSeen: string;
  lastSeen: string;
  requests: number;
  edition: number;
  editionName: string | null;
  kind: 'client' | 'server' | null;
  vm: boolean;
  licenseState: ConsoleState;
  lastOutcome: string;
  fingerprints: number;
  expiresAt: string | null;
};

/** The WHERE clause and its arguments for a filter (no cursor). */
export function machineWhere(
  f: MachineFilter,
  now: number,
  editions: EditionInfo[],
): { sql: string[]; args: unknown[] } {
  const sql: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, ...a: unknown[]) => {
    sql.push(clause);
    args.push(...a);
  };
  if (f.q !== undefined) {
    // an ID prefix (IDs are case-insensitive GUIDs), or a part of the name; LIKE's wildcards escaped
    const like = f.q.replace(/[\\%_]/g, (c) => '\\' + c);
    add("(machine_id LIKE ? ESCAPE '\\' OR machine_name LIKE ? ESCAPE '\\')", `${like}%`, `%${like}%`);
  }
  if (f.state !== undefined) add(`(${stateCase(now - defaults.validityMs)}) = ?`, f.state);
  if (f.edition !== undefined) add('edition = ?', f.edition);
  if (f.kind !== undefined) {
    const numbers = editions.filter((e) => e.kind === f.kind).map((e) => e.number);
    add(numbers.length ? `edition IN (${numbers.map(() => '?').join(', ')})` : '0', ...numbers);
  }
  if (f.vm !== undefined) add('vm = ?', f.vm ? 1 : 0);
  if (f.seenWithinDays !== undefined) add('last_seen >= ?', now - f.seenWithinDays * DAY);
  if (f.notSeenForDays !== undefined) add('last_seen < ?', now - f.notSeenForDays * DAY);
  if (f.severalFingerprints) add('fingerprints > 1');
  return { sql, args };
}

/**
 * One page of machines: ordered by the sort column then the row ID (unique), in the order asked;
 * the next page starts after the last row's (value, id), so every machine is listed once while
 * others are added or seen again. Sorting by last seen walks its index; the other sorts and the
 * filters scan with a LIMIT (bench/console-machines.ts measures them at 1,000,000 machines).
 */
export function machinePage(
  db: Database.Database,
  f: MachineFilter,
  now: number,
  editions: EditionInfo[],
): { machines: MachineRow[]; nextCursor: string | null; total: number | null } {
  const { sql, args } = machineWhere(f, now, editions);
  const filtered = sql.length > 0;
  const col = machineSorts[f.sort];
  const cmp = f.order === 'desc' ? '<' : '>';
  if (f.cursor !== undefined) {
    const [value, id] = decodeCursor(f.cursor, f.sort);
    sql.push(`(${col}, id) ${cmp} (?, ?)`);
    args.push(value, id);
  }
  const dir = f.order === 'desc' ? 'DESC' : 'ASC';
  const rows = db
    .prepare(
      `SELECT id, ${col} AS sort_value, * FROM machines ${sql.length ? 'WHERE ' + sql.join(' AND ') : ''}
       ORDER BY ${col} ${dir}, id ${dir} LIMIT ?`,
    )
    .all(...args, f.limit + 1) as Record<string, unknown>[];
  const more = rows.length > f.limit;
  const page = more ? rows.slice(0, f.limit) : rows;
  const last = page.at(-1);
  const byNumber = new Map(editions.map((e) => [e.number, e]));
  return {
    machines: page.map((r) => machineRow(r, now, byNumber)),
    nextCursor: more && last ? encodeCursor([last.sort_value as string | number, last.id as number]) : null,
    // the total of the whole table is cheap (its smallest index); a filtered one would scan
    total: filtered ? null : (db.prepare('SELECT count(*) AS n FROM machines').get() as { n: number }).n,
  };
}

function machineRow(r: Record<string, unknown>, now: number, editions: Map<number, EditionInfo>): MachineRow {
  const lastSeen = r.last_seen as number;
  const granted = r.last_outcome === 'activated' || r.last_outcome === 'renewed';
  const expires = lastSeen + defaults.validityMs;
  const reported = r.license_state as string;
  const state: ConsoleState = granted
    ? expires > now
      ? 'licensed'
      : 'notification'
    : reported === 'initialGrace' || reported === 'ootGrace'
      ? 'grace'
      : (reported as ConsoleState);
  const edition = editions.get(r.edition as number);
  return {
    machineId: r.machine_id as string,
    machineName: (r.machine_name as string | null) ?? null,
    firstSeen: new Date(r.first_seen as number).toISOString(),
    lastSeen: new Date(lastSeen).toISOString(),
    requests: r.requests as number,
    edition: r.edition as number,
    editionName: edition?.name ?? null,
    kind: edition?.kind ?? null,
    vm: r.vm === 1,
    licenseState: state,
    lastOutcome: r.last_outcome as string,
    fingerprints: r.fingerprints as number,
    expiresAt: granted ? new Date(expires).toISOString() : null,
  };
}

/** Machines by console state, and those licensed whose grant runs out within `soonDays` (one scan). */
export function machineSummary(db: Database.Database, now: number, soonDays: number) {
  const expiry = now - defaults.validityMs;
  const rows = db.prepare(`SELECT ${stateCase(expiry)} AS state, count(*) AS n FROM machines GROUP BY state`).all() as {
    state: string;
    n: number;
  }[];
  const by = Object.fromEntries(rows.map((r) => [r.state, r.n])) as Record<string, number>;
  const soon = db
    .prepare(`SELECT count(*) AS n FROM machines WHERE last_seen > ? AND last_seen <= ? AND ${GRANTED}`)
    .get(expiry, expiry + soonDays * DAY) as { n: number };
  return {
    total: rows.reduce((a, r) => a + r.n, 0),
    licensed: by.licensed ?? 0,
    grace: by.grace ?? 0,
    notification: by.notification ?? 0,
    unlicensed: by.unlicensed ?? 0,
    expiringSoon: soon.n,
    expiringSoonDays: soonDays,
  };
}

export type EventFilter = {
  since?: number;
  until?: number;
  machine?: string;
  outcome?: string;
  limit: number;
  cursor?: number;
};

const outcomes = ['activated', 'renewed', 'countInsufficient', 'editionNotCovered', 'clockSkew', 'notActivated'];

function isoParam(url: URL, name: string): number | undefined {
  const v = url.searchParams.get(name);
  if (v === null) return undefined;
  const t = Date.parse(v);
  if (v.length > 40 || Number.isNaN(t)) throw bad(name, 'must be an ISO time (2026-01-31T12:00:00Z)');
  return t;
}

/** GET /api/events' query, checked. */
export function eventFilter(url: URL): EventFilter {
  const machine = url.searchParams.get('machine') ?? undefined;
  if (machine !== undefined && (machine.length < 1 || machine.length > 100))
    throw bad('machine', 'must be a machine ID');
  return {
    since: isoParam(url, 'since'),
    until: isoParam(url, 'until'),
    machine,
    outcome: oneOf(url, 'outcome', outcomes),
    limit: intIn(url, 'limit', 1, 1000) ?? 100,
    cursor: intIn(url, 'cursor', 1, Number.MAX_SAFE_INTEGER),
  };
}

/** Events newest first, by row ID (the order they were chained); the cursor is the last ID shown. */
export function eventPage(db: Database.Database, f: EventFilter, toEvent: (r: Record<string, unknown>) => unknown) {
  const where: string[] = [];
  const args: unknown[] = [];
  const add = (clause: string, v: unknown) => {
    where.push(clause);
    args.push(v);
  };
  if (f.since !== undefined) add('at >= ?', f.since);
  if (f.until !== undefined) add('at < ?', f.until);
  if (f.machine !== undefined) add('machine_id = ?', f.machine);
  if (f.outcome !== undefined) add('outcome = ?', f.outcome);
  if (f.cursor !== undefined) add('id < ?', f.cursor);
  const rows = db
    .prepare(`SELECT * FROM events ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ?`)
    .all(...args, f.limit + 1) as Record<string, unknown>[];
  const more = rows.length > f.limit;
  const page = more ? rows.slice(0, f.limit) : rows;
  return { events: page.map(toEvent), nextCursor: more ? String(page.at(-1)!.id) : null };
}

const HOUR = 3_600_000;
/** Samples older than this go (the chart shows 90 days at most). */
const SAMPLE_RETENTION_MS = 400 * DAY;

/** Stores the count for the current hour (run at start and hourly; the last one of an hour stays). */
export function sampleCount(db: Database.Database, now: number, count: number): void {
  const hour = Math.floor(now / HOUR);
  db.prepare('INSERT INTO count_samples (hour, n) VALUES (?, ?) ON CONFLICT(hour) DO UPDATE SET n = excluded.n').run(
    hour,
    count,
  );
  db.prepare('DELETE FROM count_samples WHERE hour < ?').run(Math.floor((now - SAMPLE_RETENTION_MS) / HOUR));
}

/** The samples of the last `days`, hourly, with the count now as the last point. */
export function countHistory(db: Database.Database, now: number, days: number, current: number) {
  const rows = db
    .prepare('SELECT hour, n FROM count_samples WHERE hour >= ? AND hour < ? ORDER BY hour')
    .all(Math.floor((now - days * DAY) / HOUR), Math.floor(now / HOUR)) as { hour: number; n: number }[];
  const points = rows.map((r) => ({ at: new Date(r.hour * HOUR).toISOString(), count: r.n }));
  points.push({ at: new Date(now).toISOString(), count: current });
  return points;
}
