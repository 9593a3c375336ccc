import { fileLimits, readUserFile } from '../files.js';
import type { Command } from 'commander';
import { VolactError, parseOfflineBundle, publicKeyFromPem } from '@volact/protocol';
import { runHost, type DnsConfig } from '@volact/host';
import { defaultConnectionLimits } from '@volact/server-kit';
import { connectionOptions } from '../connection-options.js';
import { adminCall } from '../admin-client.js';
import { processClock } from '../process-clock.js';
import { emit, fail, table } from '../output.js';

/** Reads a root.pub given on the command line; a bad file is a usage error, not a crash. */
export function readRootPem(file: string): string {
  const pem = readUserFile(file, 'root key or offline bundle', fileLimits.bundle);
  // the publisher's offline bundle carries the root (and what offline activation needs)
  if (parseOfflineBundle(pem)) return pem;
  try {
    publicKeyFromPem(pem);
  } catch {
    throw new VolactError('USAGE', { detail: `${file} is neither an Ed25519 public key in PEM form nor an offline bundle` });
  }
  return pem;
}

function numberOption(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > max) throw new VolactError('VALUE_OUT_OF_RANGE', { name, min: 0, max, value: text });
  return Number(text);
}

/** The --dns-* options given (only those; the host keeps the stored rest). */
function dnsOptions(o: Record<string, string | undefined>): Partial<DnsConfig> | undefined {
  const change: Partial<DnsConfig> = {};
  if (o.dnsServer !== undefined) change.server = o.dnsServer;
  if (o.dnsDomain !== undefined) change.domain = o.dnsDomain.replace(/\.$/, '').toLowerCase();
  // an empty value clears: --dns-name '' goes back to NAME.DOMAIN, --dns-address '' publishes no address
  if (o.dnsName !== undefined) change.target = o.dnsName === '' ? null : o.dnsName.replace(/\.$/, '').toLowerCase();
  if (o.dnsAddress !== undefined) change.address = o.dnsAddress === '' ? null : o.dnsAddress;
  const priority = numberOption('--dns-priority', o.dnsPriority, 65535);
  const weight = numberOption('--dns-weight', o.dnsWeight, 65535);
  if (priority !== undefined) change.priority = priority;
  if (weight !== undefined) change.weight = weight;
  if (o.dnsExtra !== undefined) {
    change.extraDomains = o.dnsExtra
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((item) => {
        const [domain, p, w, ...rest] = item.split(',').map((x) => x.trim());
        if (!domain || rest.length) throw new VolactError('USAGE', { detail: `--dns-extra ${item}: give "domain,priority,weight"` });
        return { domain: domain.replace(/\.$/, '').toLowerCase(), priority: numberOption('--dns-extra priority', p || '0', 65535)!, weight: numberOption('--dns-extra weight', w || '0', 65535)! };
      });
  }
  return Object.keys(change).length ? change : undefined;
}

export const defaultHostDir = () => process.env.VOLACT_HOST_DIR ?? '/var/lib/volact/host';

/** `volact host …`: run an activation host and look into it. Settings go through `volact slmgr --host`. */
export function registerHost(program: Command): void {
  const cmd = program.command('host').description('an activation host on the customer network (settings: volact slmgr --host DIR -sai/-sri/-sprt)');

  cmd
    .command('serve')
    .description('run the activation host: client port and admin socket (DIR/admin.sock)')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--root <file>', "the publisher's root.pub, or its offline bundle, to pin (needed the first time)")
    .option('--authority <url>', 'authority URL for host activation')
    .option('--port <port>', 'client port (default 1688, or the stored -sprt setting)')
    .option('--listen <address>', 'IP address to listen on (default ::, all addresses, or the stored one)')
    .option('--serve-networks <cidrs>', 'comma-separated networks to serve (default: loopback and private ranges)')
    .option('--name <name>', "host name shown to clients and the default SRV target (default: the stored one, else the machine name; '' goes back to the machine name)")
    .option('--dns-server <host[:port]>', 'primary DNS server of the zone, for publishing the SRV record (RFC 2136)')
    .option('--dns-domain <domain>', 'home domain (zone) to publish _volact._tcp.<domain> in')
    .option('--dns-name <fqdn>', "the host's own name, the SRV target (default: NAME.DOMAIN)")
    .option('--dns-address <ip>', 'also publish this A/AAAA record for the host name')
    .option('--dns-priority <n>', 'SRV priority in the home domain (default 0)')
    .option('--dns-weight <n>', 'SRV weight in the home domain (default 0)')
    .option('--dns-extra <list>', 'extra domains: "domain,priority,weight" separated by ";"')
    .option('--tsig-key <file>', "the host's own TSIG key (BIND key file, hmac-sha256), kept as dns.key (0600)")
    .option('--new-database', 'start with a new, empty host.db although this host was set up here (host.db lost, no backup); then -ipk and -ato again')
    .option('--max-connections <n>', 'open client connections in all; at the cap the longest idle one is closed (0: no cap)', String(defaultConnectionLimits.total))
    .option('--max-connections-per-address <n>', 'open client connections from one address (0: no cap; raise it for many machines behind one NAT address)', String(defaultConnectionLimits.perAddress))
    .action(async (o: Record<string, string | undefined>) => {
      try {
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && (!/^\d+$/.test(o.port!) || port > 65535)) throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'port', min: 0, max: 65535, value: o.port! });
        const running = await runHost({
          dir: o.state ?? defaultHostDir(),
          clock: processClock(),
          rootPem: o.root ? readRootPem(o.root) : undefined,
          authorityUrl: o.authority,
          port,
          listenAddress: o.listen,
          servedNetworks: o.serveNetworks?.split(',').map((s) => s.trim()).filter(Boolean),
          hostName: o.name,
          dns: dnsOptions(o),
          tsigKeyText: o.tsigKey === undefined ? undefined : readUserFile(o.tsigKey, '--tsig-key'),
          connectionLimits: connectionOptions(o),
          newDatabase: Boolean(o.newDatabase),
        });
        process.stdout.write(`activation host listening on port ${running.port()} (admin socket ${running.socketPath})\n`);
        const stop = () => void running.close().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (err) {
        fail(err, false);
      }
    });

  cmd
    .command('events')
    .description('requests handled (event 12290): machine ID, VM flag, license state, outcome')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--since <time>', 'ISO time')
    .option('--machine <id>', 'one machine ID')
    .option('--outcome <outcome>', 'activated | renewed | countInsufficient | editionNotCovered | clockSkew | notActivated')
    .option('--limit <n>', 'at most this many, newest', '1000')
    .option('--json', 'one JSON array')
    .option('--jsonl', 'JSON lines')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = new URLSearchParams();
        if (o.since) {
          const t = Date.parse(o.since as string);
          if (!Number.isFinite(t)) throw new VolactError('USAGE', { detail: `--since ${String(o.since)} is not a time` });
          q.set('since', String(t));
        }
        if (o.machine) q.set('machine', o.machine as string);
        if (o.outcome) q.set('outcome', o.outcome as string);
        if (o.limit) q.set('limit', o.limit as string);
        const events = await adminCall<Record<string, unknown>[]>((o.state as string | undefined) ?? defaultHostDir(), 'GET', `/events?${q}`);
        if (o.jsonl) process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''));
        else emit(Boolean(o.json), events, () => table(events, ['at', 'event', 'machineId', 'vm', 'licenseState', 'edition', 'outcome', 'count', 'required']));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('machines')
    .description('machines seen, newest first')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--several-fingerprints', 'only machine IDs seen with several fingerprints (cloned images)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = new URLSearchParams({ limit: String(o.limit) });
        if (o.severalFingerprints) q.set('fingerprints', 'several');
        const rows = await adminCall<Record<string, unknown>[]>((o.state as string | undefined) ?? defaultHostDir(), 'GET', `/machines?${q}`);
        emit(Boolean(o.json), rows, () => table(rows, ['machineId', 'machineName', 'lastSeen', 'requests', 'edition', 'vm', 'licenseState', 'lastOutcome', 'fingerprints']));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('dns')
    .description('DNS publishing: settings, what is published where, and the 12293/12294 events')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--limit <n>', 'events, newest', '50')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const limit = numberOption('--limit', o.limit as string, 10_000);
        const d = await adminCall<DnsView>((o.state as string | undefined) ?? defaultHostDir(), 'GET', `/dns?limit=${limit}`);
        emit(Boolean(o.json), d, () =>
          [
            `DNS publishing: ${d.enabled ? 'on' : 'off (volact slmgr --host DIR -sdns turns it on)'}${d.configured ? '' : ' (not configured: --dns-server, --dns-domain and --tsig-key)'}`,
            `Server: ${d.server ?? '-'}  home domain: ${d.domain ?? '-'}  name: ${d.target ?? '-'}  priority ${d.priority}, weight ${d.weight}`,
            `Extra domains: ${d.extraDomains.map((x) => `${x.domain} (${x.priority}, ${x.weight})`).join(', ') || '-'}`,
            `Next publication: ${d.nextPublishAt ?? '-'}`,
            ...(d.published.length
              ? ['Published (confirmed by the DNS server):', ...d.published.map((p) => `  ${p.domain} at ${p.at}: ${recordList(p.records)}`)]
              : ['Published: nothing (the DNS server has confirmed no record)']),
            // sent, but no answer said whether the server applied them: never shown as published
            ...(d.unconfirmed.length
              ? ['Sent, not confirmed (the answer was lost; they may be in the zone, and the next publication or host unpublish deletes them):', ...d.unconfirmed.map((u) => `  ${u.domain} at ${u.sentAt}: ${recordList(u.records)}`)]
              : []),
            'Events:',
            ...(d.events.length ? d.events.map((e) => `  ${e.at} ${e.event} ${e.domain} ${e.rcode ?? '-'} ${e.message}${eventOutcome[e.outcome ?? ''] ?? ''}${e.fix ? `\n    Fix: ${e.fix}` : ''}`) : ['  -']),
          ].join('\n'),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('unpublish')
    .description("remove this host's own DNS records from every domain it published in (decommissioning); turns publishing off")
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const r = await adminCall<{ removed: Unpublished[] }>((o.state as string | undefined) ?? defaultHostDir(), 'POST', '/dns/unpublish', {});
        emit(Boolean(o.json), r, () => [...(r.removed.length ? r.removed.map(unpublishedLine) : ['Nothing was published.']), 'DNS publishing is off (volact slmgr --host DIR -sdns turns it back on).'].join('\n'));
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
  events: { at: string; event: number; domain: string; rcode: string | null; message: string; fix: string | null; outcome: string | null }[];
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
