import type { UsageReport } from '@volact/protocol';
import type { Audit, UsageReportRow } from '../store.js';
import type { AuthorityTables } from './schema.js';
import { audited, type Db } from './statement-support.js';

// Statements on usage_reports: what customers' hosts reported, and whether a host is ours.

const toRow = (r: AuthorityTables['usage_reports']): UsageReportRow => ({
  id: r.id,
  hash: r.report_hash,
  hostId: r.host_id,
  groups: r.groups.split(',').filter(Boolean),
  from: r.period_from,
  to: r.period_to,
  generatedAt: Number(r.generated_at),
  receivedAt: Number(r.received_at),
  receivedBy: r.received_by,
  report: JSON.parse(r.report) as UsageReport,
});

/**
 * Whether a host key of this authority ever activated the host with this public key (online or
 * offline): its current slot, or an answered request, which a released slot leaves behind.
 */
export async function hostActivated(db: Db, hostPublicKey: string): Promise<boolean> {
  const slot = await db
    .selectFrom('host_activations')
    .innerJoin('host_keys', 'host_keys.id', 'host_activations.host_key_id')
    .select('host_activations.host_id')
    .where('host_activations.host_public_key', '=', hostPublicKey)
    .where('host_keys.key_class', '=', 'host')
    .executeTakeFirst();
  if (slot) return true;
  const asked = await db
    .selectFrom('host_activation_requests')
    .innerJoin('host_keys', 'host_keys.id', 'host_activation_requests.host_key_id')
    .select('host_activation_requests.request_id')
    .where('host_activation_requests.host_public_key', '=', hostPublicKey)
    .where('host_keys.key_class', '=', 'host')
    .executeTakeFirst();
  return asked !== undefined;
}

/**
 * Stores a verified report once: the same signed report again (same hash) finds the first row,
 * and only a new row is audited. Returns the row and whether this call stored it.
 */
export async function saveUsageReport(
  db: Db,
  row: UsageReportRow,
  file: string,
  audit: Audit,
): Promise<{ stored: boolean; row: UsageReportRow }> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('usage_reports')
      .values({
        id: row.id,
        report_hash: row.hash,
        host_id: row.hostId,
        groups: row.groups.join(','),
        period_from: row.from,
        period_to: row.to,
        generated_at: row.generatedAt,
        received_at: row.receivedAt,
        received_by: row.receivedBy,
        report: JSON.stringify(row.report),
        file,
      })
      .onConflict((oc) => oc.column('report_hash').doNothing())
      .returning('id')
      .executeTakeFirst();
    if (inserted) {
      await audited(trx, audit);
      return { stored: true, row };
    }
    const first = await trx
      .selectFrom('usage_reports')
      .selectAll()
      .where('report_hash', '=', row.hash)
      .executeTakeFirstOrThrow();
    return { stored: false, row: toRow(first) };
  });
}

/** Reports received, newest first. */
export async function usageReports(db: Db, limit: number): Promise<UsageReportRow[]> {
  const rows = await db
    .selectFrom('usage_reports')
    .selectAll()
    .orderBy('received_at', 'desc')
    .orderBy('id')
    .limit(limit)
    .execute();
  return rows.map(toRow);
}
