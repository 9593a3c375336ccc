import Database from 'better-sqlite3';
import {
  VolactError,
  parsePeriod,
  signUsageReport,
  verifyCatalog,
  type CertEdition,
  type UsageEdition,
  type UsageMonth,
  type UsageReport,
  type UsageReportFile,
} from '@volact/protocol';
import { openHostDir } from './host-dir.js';
import { KeyStore } from './key-store.js';
import { EVENT_RETENTION_MS } from './run-host.js';

/** One edition as the report names it (from the catalog in force, else from the certificates). */
type Named = Pick<CertEdition, 'code' | 'name' | 'kind'>;

type EditionRow = { edition: number; granted: number; waiting: number; refused: number; requests: number };

/**
 * The counts of one stretch of time, from the events table alone: distinct machines granted
 * (activated or renewed) and told to wait (count insufficient), requests refused, requests in all.
 * Machine IDs are counted here and never leave this query.
 */
function editionCounts(db: Database.Database, start: number, end: number): EditionRow[] {
  return db
    .prepare(
      `SELECT edition,
         COUNT(DISTINCT CASE WHEN outcome IN ('activated', 'renewed') THEN machine_id END) AS granted,
         COUNT(DISTINCT CASE WHEN outcome = 'countInsufficient' THEN machine_id END) AS waiting,
         SUM(outcome IN ('editionNotCovered', 'clockSkew', 'notActivated')) AS refused,
         COUNT(*) AS requests
       FROM events WHERE at >= ? AND at < ? GROUP BY edition ORDER BY edition`,
    )
    .all(start, end) as EditionRow[];
}

/** The highest count in a stretch of time and when it was first reached. */
function peakOf(db: Database.Database, start: number, end: number): { count: number; at: number } | null {
  const row = db
    .prepare('SELECT count, at FROM events WHERE at >= ? AND at < ? ORDER BY count DESC, at LIMIT 1')
    .get(start, end) as { count: number; at: number } | undefined;
  return row ? { count: row.count, at: row.at } : null;
}

const monthStart = (m: string) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 1);
const nextMonth = (m: string) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)), 1);

export type UsageInput = {
  db: Database.Database;
  hostId: string;
  groups: string[];
  editions: Map<number, Named>;
  from: string;
  to: string;
  now: number;
};

/**
 * Since when this database knows the host's requests: its oldest event, or its oldest checkpoint
 * (a host signs one at its first start, before any request). A new host, a database started
 * afresh or one whose events were pruned does not know the time before, so it claims no zeros
 * for it.
 */
function knownSince(db: Database.Database, now: number): number {
  const row = db
    .prepare(
      'SELECT MIN(at) AS at FROM (SELECT MIN(at) AS at FROM events UNION ALL SELECT MIN(at) AS at FROM log_checkpoints)',
    )
    .get() as { at: number | null };
  return row.at ?? now;
}

/**
 * Builds the report of a period: each UTC month it touches, clipped to the part the host still
 * keeps events for (EVENT_RETENTION_MS) and to `now`; that part is stated (coveredFrom,
 * coveredTo), so days the host no longer knows read as unknown, not as zero.
 */
export function buildUsageReport(input: UsageInput): UsageReport {
  const { db, now } = input;
  const period = parsePeriod(input.from, input.to);
  if (period.start > now)
    throw new VolactError('USAGE_PERIOD_INVALID', { detail: `the period starts after today (${period.from})` });
  const coveredTo = Math.min(period.end, now);
  const coveredFrom = Math.min(Math.max(period.start, now - EVENT_RETENTION_MS, knownSince(db, now)), coveredTo);
  const months: UsageMonth[] = period.months.map((month) => {
    const start = Math.max(monthStart(month), coveredFrom);
    const end = Math.min(nextMonth(month), coveredTo);
    if (start >= end) return { month, editions: [], peak: null };
    const editions = editionCounts(db, start, end).map((r): UsageEdition => {
      const named = input.editions.get(r.edition);
      return {
        edition: r.edition,
        ...(named ? { code: named.code, name: named.name, kind: named.kind } : {}),
        granted: r.granted,
        waiting: r.waiting,
        refused: r.refused,
        requests: r.requests,
      };
    });
    return { month, editions, peak: peakOf(db, start, end) };
  });
  const peak = months.reduce<UsageReport['peak']>(
    (best, m) => (m.peak && (!best || m.peak.count > best.count) ? m.peak : best),
    null,
  );
  return {
    hostId: input.hostId,
    groups: input.groups,
    from: period.from,
    to: period.to,
    coveredFrom,
    coveredTo,
    months,
    peak,
    generatedAt: now,
  };
}

/**
 * `volact host usage-report`: reads host.db without writing it (the host may be running), the
 * host's key and its certificates, and returns the signed report file. A host that holds no
 * certificate has nothing to vouch for its counts: HOST_NOT_ACTIVATED.
 */
export function makeUsageReport(
  dir: string,
  from: string,
  to: string,
  now: number,
): { file: UsageReportFile; report: UsageReport } {
  const host = openHostDir(
    dir,
    (detail) => new VolactError('STATE_UNAVAILABLE', { dir, reason: `not a host state directory: ${detail}` }),
    (file, detail) =>
      new VolactError('STATE_CORRUPT', { file, detail: `it is not the key its certificates name (${detail})` }),
  );
  const { db } = host;
  try {
    const chains = host.certified(now);
    if (chains.length === 0) throw new VolactError('HOST_NOT_ACTIVATED');
    const editions = new Map<number, Named>();
    for (const c of chains) for (const e of c.cert.editions) editions.set(e.number, e);
    const catalog = new KeyStore(db).catalog();
    if (catalog)
      for (const e of verifyCatalog(catalog.jws, catalog.issuer, host.roots()).editions) editions.set(e.number, e);
    const report = buildUsageReport({
      db,
      hostId: chains[0]!.cert.hostId,
      groups: [...new Set(chains.map((c) => c.cert.group))],
      editions,
      from,
      to,
      now,
    });
    const certificates = chains.map(({ certificate, issuer }) => ({ certificate, issuer }));
    return { file: signUsageReport(host.keyPair, report, certificates), report };
  } finally {
    host.close();
  }
}
