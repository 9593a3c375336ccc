import { VolactError, defaults, verifyUsageReport } from '@volact/protocol';
import type { UsageReportRow } from '../store.js';
import { auditEntry, type Actor, type VerbContext } from './verb-context.js';

/** What receiving a report did: stored it now, or found the same signed report stored before. */
export type ReceivedUsageReport = { outcome: 'stored' | 'alreadyStored'; report: UsageReportRow };

/**
 * Receives a usage report a customer sent: the chain of every certificate to this authority's
 * root, the host's signature, the content's own consistency (verifyUsageReport), a time of making
 * not ahead of ours beyond the tolerated skew, and a host this authority activated. Then it is
 * stored once, with the actor who brought it in the audit log.
 */
export async function receiveUsageReport(ctx: VerbContext, file: unknown, actor: Actor): Promise<ReceivedUsageReport> {
  const now = ctx.clock.now();
  const { report, chains, hash } = verifyUsageReport(file, [ctx.keys.root], now);
  if (report.generatedAt > now + defaults.maxClockSkewMs)
    throw new VolactError('USAGE_REPORT_INVALID', {
      detail: `it was made at ${new Date(report.generatedAt).toISOString()}, later than now`,
    });
  if (!(await ctx.store.hostActivated(chains[0]!.cert.hostPublicKey)))
    throw new VolactError('USAGE_REPORT_HOST_UNKNOWN', { hostId: report.hostId });
  const row: UsageReportRow = {
    id: `UR-${hash.slice(0, 20)}`,
    hash,
    hostId: report.hostId,
    groups: report.groups,
    from: report.from,
    to: report.to,
    generatedAt: report.generatedAt,
    receivedAt: now,
    receivedBy: actor,
    report,
  };
  const audit = auditEntry(ctx, actor, 'usage-report.receive', row.id, `${row.hostId} ${row.from}..${row.to}`);
  const saved = await ctx.store.saveUsageReport(row, JSON.stringify(file), audit);
  return { outcome: saved.stored ? 'stored' : 'alreadyStored', report: saved.row };
}
