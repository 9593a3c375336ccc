import type { Command } from 'commander';
import { usageTotals, type UsageReport } from '@volact/protocol';
import { processClock } from '@volact/io';
import { writeUserFile } from '../../files.js';
import { emit, fail, iso, table } from '../../output.js';
import { defaultHostDir } from './inputs.js';

/** What the customer reads before sending: the period, what it covers, each month's counts and the peak. */
export function describeUsage(r: UsageReport): string {
  const rows = r.months.flatMap((m) =>
    m.editions.map((e) => ({ ...e, month: m.month, edition: e.code ?? `#${e.edition}` })),
  );
  const end = Date.parse(r.to) + 86_400_000;
  // events older than 90 days are pruned; a later start means the host's database began then
  const retained = r.generatedAt - 90 * 86_400_000;
  const why = [
    ...(r.coveredFrom > Date.parse(r.from)
      ? [r.coveredFrom > retained + 60_000 ? "the host's database began then" : 'the host keeps 90 days of events']
      : []),
    ...(r.coveredTo < end ? ['the rest has not come yet'] : []),
  ];
  const covered = !why.length
    ? ''
    : r.coveredFrom === r.coveredTo
      ? '\nThe host no longer keeps events of this period (it keeps 90 days): nothing in it is counted.'
      : `\nThe host's events cover ${iso(r.coveredFrom)} to ${iso(r.coveredTo)} of it (${why.join('; ')}).`;
  return [
    `Host ${r.hostId} (${r.groups.join(', ')}), ${r.from} to ${r.to}.${covered}`,
    table(rows, ['month', 'edition', 'granted', 'waiting', 'refused', 'requests']),
    `Peak count: ${r.peak ? `${r.peak.count} at ${iso(r.peak.at)}` : '-'}.`,
    `Most machines granted in one month: ${
      usageTotals(r)
        .map((t) => `${t.code ?? `#${t.edition}`} ${t.maxMonthlyGranted}`)
        .join(', ') || 'none'
    }.`,
  ].join('\n');
}

/** `volact host usage-report`: counts for the publisher, signed by this host; no machine is named. */
export function registerUsageReport(cmd: Command): void {
  cmd
    .command('usage-report')
    .description(
      'write a usage report for the publisher: machines per edition and month and the peak count, signed by this host; no machine IDs, names or addresses',
    )
    .requiredOption('--from <date>', 'first month or day (YYYY-MM or YYYY-MM-DD, UTC)')
    .requiredOption('--to <date>', 'last month or day, included (YYYY-MM or YYYY-MM-DD, UTC)')
    .requiredOption('--out <file>', 'where to write the report (readable by all: it is for sending)')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR); read only, the host may be running')
    .option('--json', 'print the report as JSON')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const { makeUsageReport } = await import('@volact/host');
        const dir = (o.state as string | undefined) ?? defaultHostDir();
        const { file, report } = makeUsageReport(dir, o.from as string, o.to as string, processClock().now());
        writeUserFile(o.out as string, 'usage report', JSON.stringify(file, null, 2) + '\n');
        emit(
          Boolean(o.json),
          { written: o.out, report },
          () => `${describeUsage(report)}\nWritten to ${o.out as string}; send it to your publisher.`,
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
