import type Database from 'better-sqlite3';
import { HOUR, MINUTE, VolactError, type Clock } from '@volact/protocol';
import { sendUpdate, type SrvRecord, type TsigKey, type UpdateOp, type UpdateResult } from './dns-update.js';

/** Where and how a host publishes itself (stored as the `dns` setting). */
export type DnsConfig = {
  enabled: boolean;
  server: string | null;
  /** The home domain (a zone on `server`). */
  domain: string | null;
  /** The host's own name, the SRV target (default host name + home domain). */
  target: string | null;
  /** Also publish this A/AAAA record for the target, in the home domain. */
  address: string | null;
  priority: number;
  weight: number;
  ttl: number;
  extraDomains: { domain: string; priority: number; weight: number }[];
};

export const defaultDnsConfig: DnsConfig = { enabled: true, server: null, domain: null, target: null, address: null, priority: 0, weight: 0, ttl: 3600, extraDomains: [] };

export const REPUBLISH_MS = 24 * HOUR;
const BACKOFF_MS = [MINUTE, 2 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR];

type Published = { type: 'SRV' | 'A' | 'AAAA'; rr: Record<string, unknown> }[];
export type Send = typeof sendUpdate;

/** HOST, HOST:PORT, [V6]:PORT or a bare IPv6 address; port 53 by default. */
export function serverOf(spec: string): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  const parts = spec.split(':');
  const [host, portText] = bracket ? [bracket[1]!, bracket[2]] : parts.length === 2 ? [parts[0]!, parts[1]] : [spec, undefined];
  if (!host || !/^[A-Za-z0-9.:-]+$/.test(host) || (portText !== undefined && !/^\d+$/.test(portText))) throw new VolactError('USAGE', { detail: `the DNS server ${spec} is not HOST[:PORT]` });
  const port = portText ? Number(portText) : 53;
  if (port < 1 || port > 65535) throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'DNS server port', min: 1, max: 65535, value: port });
  return { host, port };
}

/**
 * Publishes the host's own SRV record (`_volact._tcp.<domain>`) in its home domain and each
 * extra domain, and its A/AAAA record if configured: at start, then every 24 hours, retrying a
 * failed update with backoff. It remembers exactly what it published, so it only ever deletes
 * its own records, never another host's in the same set. Failures are events with the DNS
 * answer code and the fix; they never stop the host from serving.
 */
export class DnsPublisher {
  private nextAt = 0;
  private failures = 0;
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly clock: Clock,
    private readonly config: () => DnsConfig,
    private readonly port: () => number,
    private readonly key: () => TsigKey | null,
    private readonly log: (line: string) => void,
    /** The host's short name and whether it is activated: an unactivated host does not advertise itself. */
    private readonly host: () => { name: string; activated: boolean },
    private readonly send: Send = sendUpdate,
  ) {}

  /** Checks once a second whether a publication is due (the clock may be a test clock). */
  start(): void {
    this.timer = setInterval(() => void this.tick(), 1000);
    this.timer.unref();
    void this.tick();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  /** Publish on the next tick (start, -sdns, a new port). */
  soon(): void {
    this.nextAt = 0;
    this.failures = 0;
  }

  get status() {
    const c = this.config();
    const published = this.db.prepare('SELECT domain, records, published_at FROM dns_published ORDER BY domain').all() as { domain: string; records: string; published_at: number }[];
    return {
      enabled: c.enabled,
      configured: this.configured(c),
      server: c.server,
      domain: c.domain,
      target: this.target(c),
      priority: c.priority,
      weight: c.weight,
      extraDomains: c.extraDomains,
      activated: this.host().activated,
      nextPublishAt: c.enabled && this.configured(c) && this.host().activated ? new Date(Math.max(this.nextAt, this.clock.now())).toISOString() : null,
      published: published.map((p) => ({ domain: p.domain, at: new Date(p.published_at).toISOString(), records: JSON.parse(p.records) as Published })),
    };
  }

  private configured(c: DnsConfig): boolean {
    return Boolean(c.server && c.domain && this.key());
  }

  /** The SRV target: --dns-name, else the host's name in the home domain (worked out each time). */
  private target(c: DnsConfig): string | null {
    return c.target ?? (c.domain ? `${this.host().name.split('.')[0]!.toLowerCase()}.${c.domain}` : null);
  }

  async tick(): Promise<void> {
    const c = this.config();
    if (!c.enabled || !this.configured(c) || !this.host().activated || this.running || this.clock.now() < this.nextAt) return;
    this.running = this.publishAll().finally(() => (this.running = undefined));
    await this.running;
  }

  /** What this host wants published in one domain. */
  private desired(c: DnsConfig, domain: string, priority: number, weight: number): Published {
    const target = this.target(c)!;
    const srv: SrvRecord = { name: `_volact._tcp.${domain}`, priority, weight, port: this.port(), target, ttl: c.ttl };
    const records: Published = [{ type: 'SRV', rr: srv }];
    if (c.address && domain === c.domain) records.push({ type: c.address.includes(':') ? 'AAAA' : 'A', rr: { name: target, address: c.address, family: c.address.includes(':') ? 6 : 4, ttl: c.ttl } });
    return records;
  }

  private previous(domain: string): Published {
    const row = this.db.prepare('SELECT records FROM dns_published WHERE domain = ?').get(domain) as { records: string } | undefined;
    return row ? (JSON.parse(row.records) as Published) : [];
  }

  async publishAll(): Promise<void> {
    const c = this.config();
    const domains = [{ domain: c.domain!, priority: c.priority, weight: c.weight }, ...c.extraDomains];
    let failed = false;
    for (const d of domains) {
      const want = this.desired(c, d.domain, d.priority, d.weight);
      const had = this.previous(d.domain);
      const same = (a: Published[number], b: Published[number]) => a.type === b.type && JSON.stringify({ ...a.rr, ttl: 0 }) === JSON.stringify({ ...b.rr, ttl: 0 });
      // our old records that are no longer wanted (a new port, priority or name) go first
      const ops: UpdateOp[] = [
        ...had.filter((h) => !want.some((w) => same(h, w))).map((h) => ({ op: 'delete' as const, record: h as never })),
        ...want.map((w) => ({ op: 'add' as const, record: w as never })),
      ];
      const ok = await this.update(d.domain, ops, 'publish');
      if (ok) this.db.prepare('INSERT INTO dns_published (domain, records, published_at) VALUES (?, ?, ?) ON CONFLICT(domain) DO UPDATE SET records = excluded.records, published_at = excluded.published_at').run(d.domain, JSON.stringify(want), this.clock.now());
      else failed = true;
    }
    // records in domains no longer configured are ours too: remove them
    const configured = new Set(domains.map((d) => d.domain));
    for (const row of this.db.prepare('SELECT domain FROM dns_published').all() as { domain: string }[]) {
      if (!configured.has(row.domain)) await this.unpublishDomain(row.domain);
    }
    if (failed) {
      this.nextAt = this.clock.now() + BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
      this.failures++;
    } else {
      this.nextAt = this.clock.now() + REPUBLISH_MS;
      this.failures = 0;
    }
  }

  private async unpublishDomain(domain: string): Promise<boolean> {
    const had = this.previous(domain);
    if (had.length === 0) return true;
    const ok = await this.update(domain, had.map((h) => ({ op: 'delete' as const, record: h as never })), 'unpublish');
    if (ok) this.db.prepare('DELETE FROM dns_published WHERE domain = ?').run(domain);
    return ok;
  }

  /** `volact host unpublish`: removes this host's records from every domain it published in. */
  async unpublishAll(): Promise<{ domain: string; removed: boolean }[]> {
    const domains = (this.db.prepare('SELECT domain FROM dns_published ORDER BY domain').all() as { domain: string }[]).map((r) => r.domain);
    const out = [];
    for (const domain of domains) out.push({ domain, removed: await this.unpublishDomain(domain) });
    return out;
  }

  /** Sends one update; records event 12294 (done) or 12293 (failed, with the answer code and the fix). */
  private async update(domain: string, ops: UpdateOp[], action: 'publish' | 'unpublish'): Promise<boolean> {
    const c = this.config();
    const key = this.key();
    const server = c.server ?? '?';
    let result: UpdateResult | undefined;
    let err: VolactError | undefined;
    try {
      if (!key) throw new Error('no TSIG key');
      // TSIG's time is checked by the DNS server against its own clock (5 minutes of fudge): the
      // system clock, not the host's (possibly test) clock, which only decides when to publish
      result = await this.send(serverOf(server), domain, ops, key, Math.floor(Date.now() / 1000));
      if (result.tsigError) err = new VolactError('DNS_TSIG_REJECTED', { server, domain, rcode: result.rcode, tsigError: ({ 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME' } as Record<number, string>)[result.tsigError] ?? `TSIG error ${result.tsigError}` });
      else if (result.rcode === 'REFUSED' || result.rcode === 'NOTAUTH') err = new VolactError('DNS_UPDATE_REFUSED', { server, domain, rcode: result.rcode });
      else if (result.rcode !== 'NOERROR') err = new VolactError('DNS_UPDATE_FAILED', { server, domain, detail: `the server answered ${result.rcode}` });
      else if (!result.signedAnswer) err = new VolactError('DNS_ANSWER_UNSIGNED', { server, domain });
    } catch (e) {
      err = e instanceof VolactError ? e : new VolactError('DNS_UPDATE_FAILED', { server, domain, detail: e instanceof Error ? e.message : String(e) });
    }
    const event = err ? 12293 : 12294;
    const message = err ? err.message : `${action === 'publish' ? 'published' : 'removed'} ${ops.filter((o) => o.op === (action === 'publish' ? 'add' : 'delete')).map((o) => `${o.record.type} ${String(o.record.rr.name)}`).join(', ')}`;
    this.db.prepare('INSERT INTO dns_events (at, event, domain, server, rcode, code, message, fix) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(this.clock.now(), event, domain, server, result?.rcode ?? null, err?.code ?? null, message, err?.fix ?? null);
    this.log(JSON.stringify({ event, domain, server, rcode: result?.rcode ?? null, code: err?.code, message, fix: err?.fix }));
    return !err;
  }

  /** Drops events older than `retentionMs` (run with the host's hourly pruning). */
  prune(retentionMs: number): void {
    this.db.prepare('DELETE FROM dns_events WHERE at < ?').run(this.clock.now() - retentionMs);
  }

  events(limit = 100) {
    return (this.db.prepare('SELECT * FROM (SELECT * FROM dns_events ORDER BY id DESC LIMIT ?) ORDER BY id').all(limit) as Record<string, unknown>[]).map((r) => ({
      id: r.id as number,
      event: r.event as number,
      at: new Date(r.at as number).toISOString(),
      domain: r.domain as string,
      server: r.server as string,
      rcode: r.rcode as string | null,
      code: r.code as string | null,
      message: r.message as string,
      fix: r.fix as string | null,
    }));
  }
}
