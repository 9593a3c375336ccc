import type { Command } from 'commander';
import { adminCall } from '../../admin-client.js';
import { emit, fail } from '../../output.js';
import { defaultHostDir, numberOption } from './inputs.js';

/** `volact host dns` and `volact host unpublish`: the host's DNS records. */
export function registerDns(cmd: Command): void {
  cmd
    .command('dns')
    .description('DNS publishing: settings, what is published where, and the 12293/12294 events')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--limit <n>', 'events, newest', '50')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const limit = numberOption('--limit', o.limit as string, 10_000);
        const d = await adminCall<DnsView>(
          (o.state as string | undefined) ?? defaultHostDir(),
          'GET',
          `/dns?limit=${limit}`,
        );
        emit(Boolean(o.json), d, () =>
          [
            `DNS publishing: ${d.enabled ? 'on' : 'off (volact slmgr --host DIR -sdns turns it on)'}${d.configured ? '' : ' (not configured: --dns-server, --dns-domain and --tsig-key)'}`,
            `Server: ${d.server ?? '-'}  home domain: ${d.domain ?? '-'}  name: ${d.target ?? '-'}  priority ${d.priority}, weight ${d.weight}`,
            `Extra domains: ${d.extraDomains.map((x) => `${x.domain} (${x.priority}, ${x.weight})`).join(', ') || '-'}`,
            `Next publication: ${d.nextPublishAt ?? '-'}`,
            ...(d.published.length
              ? [
                  'Published (confirmed by the DNS server):',
                  ...d.published.map((p) => `  ${p.domain} at ${p.at}: ${recordList(p.records)}`),
                ]
              : ['Published: nothing (the DNS server has confirmed no record)']),
            // sent, but no answer said whether the server applied them: never shown as published
            ...(d.unconfirmed.length
              ? [
                  'Sent, not confirmed (the answer was lost; they may be in the zone, and the next publication or host unpublish deletes them):',
                  ...d.unconfirmed.map((u) => `  ${u.domain} at ${u.sentAt}: ${recordList(u.records)}`),
                ]
              : []),
            'Events:',
            ...(d.events.length
              ? d.events.map(
                  (e) =>
                    `  ${e.at} ${e.event} ${e.domain} ${e.rcode ?? '-'} ${e.message}${eventOutcome[e.outcome ?? ''] ?? ''}${e.fix ? `\n    Fix: ${e.fix}` : ''}`,
                )
              : ['  -']),
          ].join('\n'),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('unpublish')
    .description(
      "remove this host's own DNS records from every domain it published in (decommissioning); turns publishing off",
    )
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const r = await adminCall<{ removed: Unpublished[] }>(
          (o.state as string | undefined) ?? defaultHostDir(),
          'POST',
          '/dns/unpublish',
          {},
        );
        emit(Boolean(o.json), r, () =>
          [
            ...(r.removed.length ? r.removed.map(unpublishedLine) : ['Nothing was published.']),
            'DNS publishing is off (volact slmgr --host DIR -sdns turns it back on).',
          ].join('\n'),
        );
        // only records the server had confirmed are known to be in the zone: those not removed are a failure
        if (r.removed.some((x) => !x.removed && x.confirmed)) process.exitCode = 6;
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}

type DnsRecordView = { type: string; rr: Record<string, unknown> };
type DnsView = {
  enabled: boolean;
  configured: boolean;
  server: string | null;
  domain: string | null;
  target: string | null;
  priority: number;
  weight: number;
  extraDomains: { domain: string; priority: number; weight: number }[];
  nextPublishAt: string | null;
  published: { domain: string; at: string; records: DnsRecordView[] }[];
  unconfirmed: { domain: string; sentAt: string; records: DnsRecordView[] }[];
  events: {
    at: string;
    event: number;
    domain: string;
    rcode: string | null;
    message: string;
    fix: string | null;
    outcome: string | null;
  }[];
};
type Unpublished = { domain: string; removed: boolean; confirmed: boolean; code: string | null };

const recordList = (records: DnsRecordView[]) => records.map((r) => `${r.type} ${String(r.rr.name)}`).join(', ');

/** What a failed update means for the zone, after its message. */
const eventOutcome: Record<string, string> = {
  refused: ' (refused: nothing was changed)',
  unconfirmed: ' (sent, not confirmed: the records may be in the zone)',
};

function unpublishedLine(x: Unpublished): string {
  if (x.removed) return `${x.domain}: removed${x.confirmed ? '' : ' (they had been sent but never confirmed)'}`;
  if (x.confirmed) return `${x.domain}: NOT removed (${x.code}; see volact host dns)`;
  return `${x.domain}: not removed, but never published either: the records were sent, and the DNS server confirmed neither adding nor removing them (${x.code}). dig _volact._tcp.${x.domain} SRV shows whether they are there; host unpublish tries again.`;
}
