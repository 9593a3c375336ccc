import type { Command } from 'commander';
import { MAX_REPORT_FILE, VolactError, fromErrorBody, parseUsageReportFile, usageTotals } from '@volact/protocol';
import type { ReceivedUsageReport, UsageReportRow } from '@volact/authority';
import { exchangeJson } from '@volact/io';
import { readUserFile } from '../../files.js';
import { emit, iso, table } from '../../output.js';
import { describeUsage } from '../host/usage-report.js';
import { remoteAdmin } from '../../confirm.js';
import { cliActor, run, storeCommand, withAuthority } from './common.js';

/** The admin API of a remote authority, for an operator away from its machine: HTTPS, or HTTP on loopback. */
async function remote<T>(
  url: string,
  tokenFile: string | undefined,
  method: 'GET' | 'POST',
  body?: unknown,
): Promise<T> {
  const { base, token } = remoteAdmin(url, tokenFile, method === 'POST' ? 'issue' : 'read');
  let reply;
  try {
    reply = await exchangeJson(new URL('v1/admin/usage-reports', base), {
      method,
      body,
      headers: { authorization: `Bearer ${token}` },
      limit: 64 * 1024 * 1024,
      timeoutMs: 60_000,
    });
  } catch (err) {
    throw new VolactError('AUTHORITY_UNREACHABLE', {
      target: url,
      reason: err instanceof Error ? err.message : String(err),
    });
  }
  if (reply.status < 200 || reply.status > 299)
    throw (
      fromErrorBody(reply.body) ??
      new VolactError('AUTHORITY_UNREACHABLE', { target: url, reason: `unexpected answer (HTTP ${reply.status})` })
    );
  return reply.body as T;
}

const remoteOptions = (c: Command) =>
  c
    .option('--url <url>', "use a remote authority's admin API instead of the local store (with --token-file)")
    .option('--token-file <file>', 'file holding a token (scope issue to upload, read to list)');

const period = (r: UsageReportRow) => `${r.from}..${r.to}`;
const peak = (r: UsageReportRow) => (r.report.peak ? `${r.report.peak.count} (${iso(r.report.peak.at)})` : '-');
const totals = (r: UsageReportRow) =>
  usageTotals(r.report)
    .map((t) => `${t.code ?? `#${t.edition}`}:${t.maxMonthlyGranted}`)
    .join(' ') || '-';

/** `authority verify-usage FILE` and `authority usage`: the volume customers report, without their machines. */
export function registerUsage(cmd: Command): void {
  remoteOptions(storeCommand(cmd, 'verify-usage'))
    .argument('<file>', 'a usage report from volact host usage-report')
    .description("check a customer's usage report (signed by a host we activated, chained to our root) and store it")
    .action(
      run(async (o) => {
        const text = readUserFile(o._arg as string, 'usage report', MAX_REPORT_FILE);
        // the same shape check as the authority's, so a damaged file reads alike local or remote
        const file = parseUsageReportFile(text);
        const got = o.url
          ? await remote<ReceivedUsageReport>(o.url as string, o.tokenFile as string | undefined, 'POST', file)
          : await withAuthority(o, (authority) => authority.receiveUsageReport(file, cliActor()));
        const r = got.report;
        emit(Boolean(o.json), got, () =>
          [
            `Verified usage report ${r.id} from host ${r.hostId}: ${
              got.outcome === 'stored' ? 'stored' : `already stored (received ${iso(r.receivedAt)})`
            }.`,
            describeUsage(r.report),
          ].join('\n'),
        );
      }),
    );

  remoteOptions(storeCommand(cmd, 'usage'))
    .description('usage reports received from customers, newest first')
    .action(
      run(async (o) => {
        const rows = o.url
          ? await remote<UsageReportRow[]>(o.url as string, o.tokenFile as string | undefined, 'GET')
          : await withAuthority(o, (authority) => authority.usageReports());
        emit(Boolean(o.json), rows, () =>
          table(
            rows.map((r) => ({
              received: iso(r.receivedAt),
              id: r.id,
              host: r.hostId,
              groups: r.groups.join(','),
              period: period(r),
              'machines/month (max)': totals(r),
              peak: peak(r),
            })),
            ['received', 'id', 'host', 'groups', 'period', 'machines/month (max)', 'peak'],
          ),
        );
      }),
    );
}
