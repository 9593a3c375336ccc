import { createHash } from 'node:crypto';
import type { Root } from './chain.js';
import { DAY } from './clock.js';
import { DOC_VERSION, readPayload, readableVersions } from './documents.js';
import { VolactError } from './errors.js';
import { verifyHostCert, type VerifiedCert } from './host-cert.js';
import { MAX_JWS_LENGTH, signDocument, verifyJws, type KeyPair } from './jws.js';
import { array, int, literal, nullable, obj, optional, parseWith, str, type Infer } from './schema.js';

/**
 * A usage report: what an activation host tells its publisher about volume, and nothing about
 * machines. Counts per edition and UTC month and the peak of the host's count, signed by the
 * host's own key; the file carries the host's certificates so the authority can check the chain
 * to its root. No machine IDs, machine names or addresses are in it (docs/protocol.md).
 */
export const USAGE_REPORT_TYPE = 'volact.usage-report';
/** A file's `kind`, so a report is not mistaken for an offline bundle or a catalog. */
export const USAGE_REPORT_KIND = 'volact.usage-report-file';
/** The most months one report spans: ten years. */
export const MAX_REPORT_MONTHS = 120;
/** The largest report file read: a JWS plus a few certificates. */
export const MAX_REPORT_FILE = 4 * MAX_JWS_LENGTH;

const time = int({ min: 0, max: 8.64e15 });
const count = int({ min: 0, max: 2 ** 31 });
const id = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ });
const day = str({ min: 10, max: 10, pattern: /^\d{4}-\d{2}-\d{2}$/ });
const month = str({ min: 7, max: 7, pattern: /^\d{4}-\d{2}$/ });
const peakSchema = nullable(obj({ count, at: time }));

/** One edition in one month. `granted`, `waiting`: distinct machines; `refused`, `requests`: requests. */
export const usageEditionSchema = obj({
  edition: int({ min: 0, max: 0xffff }),
  /** From the host's catalog; absent for requests whose setup key it does not know (edition 0). */
  code: optional(id),
  name: optional(str({ min: 1, max: 128 })),
  kind: optional(literal('client', 'server')),
  granted: count,
  waiting: count,
  refused: count,
  requests: count,
});
export type UsageEdition = Infer<typeof usageEditionSchema>;

export const usageMonthSchema = obj({
  month,
  editions: array(usageEditionSchema, { max: 4096 }),
  /** The highest count of the month and when it was first reached; null without requests. */
  peak: peakSchema,
});
export type UsageMonth = Infer<typeof usageMonthSchema>;

/** The signed payload. */
export const usageReportSchema = obj({
  hostId: id,
  groups: array(id, { min: 1, max: 64 }),
  from: day,
  to: day,
  /** The part of the period the host's kept events cover (it keeps 90 days): epoch ms, end exclusive. */
  coveredFrom: time,
  coveredTo: time,
  months: array(usageMonthSchema, { max: MAX_REPORT_MONTHS }),
  peak: peakSchema,
  generatedAt: time,
});
export type UsageReport = Infer<typeof usageReportSchema>;

/** The file the customer sends: the signed report and the chain of each of the host's certificates. */
export const usageReportFileSchema = obj({
  v: literal(1),
  kind: literal(USAGE_REPORT_KIND),
  report: str({ min: 1, max: MAX_JWS_LENGTH }),
  certificates: array(
    obj({ certificate: str({ min: 1, max: MAX_JWS_LENGTH }), issuer: str({ min: 1, max: 16 * 1024 }) }),
    { min: 1, max: 16 },
  ),
});
export type UsageReportFile = Infer<typeof usageReportFileSchema>;

export type Period = { from: string; to: string; start: number; end: number; months: string[] };

const invalid = (detail: string) => new VolactError('USAGE_REPORT_INVALID', { detail });
const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const dayOf = (t: number) => new Date(t).toISOString().slice(0, 10);

/** A date given as YYYY-MM or YYYY-MM-DD (UTC): the first day of the month, or the last with `end`. */
function parseDay(text: string, name: string, end: boolean): number {
  const m = /^(\d{4})-(\d{2})(?:-(\d{2}))?$/.exec(text);
  const bad = () =>
    new VolactError('USAGE_PERIOD_INVALID', {
      detail: `${name} ${text.slice(0, 40)} is not a date (YYYY-MM or YYYY-MM-DD)`,
    });
  if (!m) throw bad();
  const [y, mo] = [Number(m[1]), Number(m[2])];
  if (y < 2000 || mo < 1 || mo > 12) throw bad();
  if (m[3] === undefined) return end ? Date.UTC(y, mo, 1) - DAY : Date.UTC(y, mo - 1, 1);
  const t = Date.UTC(y, mo - 1, Number(m[3]));
  if (dayOf(t) !== text) throw bad();
  return t;
}

/** The UTC months a period touches, as YYYY-MM. */
export function monthsOf(start: number, end: number): string[] {
  const out: string[] = [];
  const d = new Date(start);
  for (let y = d.getUTCFullYear(), m = d.getUTCMonth(); Date.UTC(y, m, 1) < end; m === 11 ? (y++, (m = 0)) : m++)
    out.push(`${y}-${pad(m + 1)}`);
  return out;
}

/** --from and --to of a report: whole UTC days, `to` included; `end` is the exclusive end in ms. */
export function parsePeriod(fromText: string, toText: string): Period {
  const start = parseDay(fromText, '--from', false);
  const end = parseDay(toText, '--to', true) + DAY;
  if (start >= end)
    throw new VolactError('USAGE_PERIOD_INVALID', { detail: `--from ${fromText} is after --to ${toText}` });
  const months = monthsOf(start, end);
  if (months.length > MAX_REPORT_MONTHS)
    throw new VolactError('USAGE_PERIOD_INVALID', {
      detail: `the period spans ${months.length} months; at most ${MAX_REPORT_MONTHS}`,
    });
  return { from: dayOf(start), to: dayOf(end - DAY), start, end, months };
}

/** Signs a report with the host's key and puts the certificates beside it. */
export function signUsageReport(
  key: KeyPair,
  report: UsageReport,
  certificates: { certificate: string; issuer: string }[],
): UsageReportFile {
  return {
    v: 1,
    kind: USAGE_REPORT_KIND,
    report: signDocument(key, USAGE_REPORT_TYPE, DOC_VERSION, report),
    certificates,
  };
}

/** Reads a report file's text: not JSON, or not the file's shape, is USAGE_REPORT_INVALID (nothing verified yet). */
export function parseUsageReportFile(text: string): UsageReportFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw invalid('the file is not JSON (damaged, cut short, or not a report)');
  }
  return parseWith(usageReportFileSchema, raw, (p) => invalid(`${p.field} ${p.problem}`));
}

/** The report's identity: the hash of its signed text, so the same report sent twice is one report. */
export function usageReportHash(file: UsageReportFile): string {
  return createHash('sha256').update(file.report).digest('base64url');
}

export type VerifiedUsageReport = { report: UsageReport; chains: VerifiedCert[]; hash: string };

/** The report's own arithmetic: a period, its months in order, coverage inside it. */
function checkReport(r: UsageReport): void {
  let period: Period;
  try {
    period = parsePeriod(r.from, r.to);
  } catch (err) {
    throw invalid(`its period: ${(err as Error).message}`);
  }
  const months = r.months.map((m) => m.month);
  if (months.join() !== period.months.join()) throw invalid(`its months are not those of ${r.from} to ${r.to}`);
  if (r.coveredFrom < period.start || r.coveredTo > period.end || r.coveredFrom > r.coveredTo)
    throw invalid('its covered part lies outside its period');
  if (r.coveredTo > r.generatedAt) throw invalid('it covers time after it was made');
  const peaks = r.months.flatMap((m) => (m.peak ? [m.peak] : []));
  const top = peaks.reduce((a, b) => (b.count > a ? b.count : a), -1);
  if ((r.peak?.count ?? -1) !== top) throw invalid('its peak is not the highest of its months');
  for (const m of r.months) {
    const seen = new Set<number>();
    for (const e of m.editions) {
      if (seen.has(e.edition)) throw invalid(`edition ${e.edition} appears twice in ${m.month}`);
      seen.add(e.edition);
    }
  }
}

/**
 * Verifies a report file: every certificate chains to a pinned root and names one and the same
 * host key, the report is signed by that key and names that host, and its content is consistent.
 * `now` checks the certificates' own expiry.
 */
export function verifyUsageReport(file: unknown, roots: readonly Root[], now: number): VerifiedUsageReport {
  const f = parseWith(usageReportFileSchema, file, (p) => invalid(`${p.field} ${p.problem}`));
  const chains = f.certificates.map((c) => verifyHostCert(c.certificate, c.issuer, roots, now));
  const first = chains[0]!;
  if (chains.some((c) => c.cert.hostPublicKey !== first.cert.hostPublicKey))
    throw new VolactError('HOST_CERT_MISMATCH', { detail: 'the certificates name different host keys' });
  const parsed = verifyJws(f.report, {
    typ: USAGE_REPORT_TYPE,
    versions: readableVersions,
    kid: first.hostKid,
    key: first.hostKey,
  });
  const report = readPayload(USAGE_REPORT_TYPE, usageReportSchema, parsed.payload);
  if (report.hostId !== first.cert.hostId)
    throw new VolactError('HOST_CERT_MISMATCH', { detail: `the report names host ${report.hostId}` });
  // the groups are what the certificates say, not what the key holder writes: a listing shows them as fact
  const certified = [...new Set(chains.map((c) => c.cert.group))].sort();
  const claimed = [...new Set(report.groups)].sort();
  if (certified.join('\n') !== claimed.join('\n'))
    throw invalid(`it names the groups ${claimed.join(', ')}; its certificates are for ${certified.join(', ')}`);
  checkReport(report);
  return { report, chains, hash: usageReportHash(f) };
}

export type UsageTotal = { edition: number; code: string | null; maxMonthlyGranted: number; refused: number };

/**
 * Per-edition totals over a report's months, for listings: the most distinct machines granted in
 * one month (a machine renewed every month is one machine in each, so months are not added up) and
 * the requests refused in all.
 */
export function usageTotals(report: UsageReport): UsageTotal[] {
  const by = new Map<number, UsageTotal>();
  for (const m of report.months)
    for (const e of m.editions) {
      const t = by.get(e.edition) ?? { edition: e.edition, code: e.code ?? null, maxMonthlyGranted: 0, refused: 0 };
      t.maxMonthlyGranted = Math.max(t.maxMonthlyGranted, e.granted);
      t.refused += e.refused;
      by.set(e.edition, t);
    }
  return [...by.values()].sort((a, b) => a.edition - b.edition);
}
