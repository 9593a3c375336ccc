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

/** A host name's first label as a DNS label: lower case, anything else than a-z 0-9 - becomes -. */
export function defaultLabel(name: string): string {
  const label = name.split('.')[0]!.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '').slice(0, 63);
  return label || 'volact-host';
}
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

  /** Stops the timer and waits for an update in flight, so the database can be closed after. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.queue;
  }

  /** Publish again as soon as possible (-sdns, a new port), even if a publication is running now. */
  soon(): void {
    this.nextAt = 0;
    this.failures = 0;
    this.generation++;
  }

  /**
   * Every publication and removal runs through one queue, one at a time: an unpublish never
   * races a publication, and a change made during a publication is published right after it.
   */
  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work);
    this.queue = next.then(
      () => undefined,
      () => undefined,
    );
    return next;
  }

  get status() {
    const c = this.config();
    const published = this.db.prepare('SELECT domain, server, records, published_at FROM dns_published ORDER BY domain').all() as { domain: string; server: string; records: string; published_at: number }[];
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
      published: published.map((p) => ({ domain: p.domain, server: p.server, at: new Date(p.published_at).toISOString(), records: JSON.parse(p.records) as Published })),
    };
  }

  private configured(c: DnsConfig): boolean {
    return Boolean(c.server && c.domain && this.key());
  }

  /** The SRV target: --dns-name, else the host's name in the home domain (worked out each time). */
  private target(c: DnsConfig): string | null {
    return c.target ?? (c.domain ? `${defaultLabel(this.host().name)}.${c.domain}` : null);
  }

  private due(): boolean {
    const c = this.config();
    return !this.stopped && c.enabled && this.configured(c) && this.host().activated && this.clock.now() >= this.nextAt;
  }

  /** One check; never throws (an error here must not stop the host, which serves clients). */
  async tick(): Promise<void> {
    if (this.busy || !this.due()) return;
    this.busy = true;
    try {
      await this.serial(async () => {
        if (this.due()) await this.publishAll();
      });
    } catch (err) {
      this.log(JSON.stringify({ level: 'error', dns: 'publication failed', error: err instanceof Error ? err.message : String(err) }));
      this.nextAt = this.clock.now() + BACKOFF_MS[Math.min(this.failures++, BACKOFF_MS.length - 1)]!;
    } finally {
      this.busy = false;
    }
  }
  private busy = false;
  private stopped = false;
  private generation = 0;
  private queue: Promise<unknown> = Promise.resolve();

  /** What this host wants published in one domain. */
  private desired(c: DnsConfig, domain: string, priority: number, weight: number): Published {
    const target = this.target(c)!;
    const srv: SrvRecord = { name: `_volact._tcp.${domain}`, priority, weight, port: this.port(), target, ttl: c.ttl };
    const records: Published = [{ type: 'SRV', rr: srv }];
    if (c.address && domain === c.domain) records.push({ type: c.address.includes(':') ? 'AAAA' : 'A', rr: { name: target, address: c.address, family: c.address.includes(':') ? 6 : 4, ttl: c.ttl } });
    return records;
  }

  private previous(domain: string): { server: string | null; records: Published } {
    const row = this.db.prepare('SELECT server, records FROM dns_published WHERE domain = ?').get(domain) as { server: string; records: string } | undefined;
    return row ? { server: row.server, records: JSON.parse(row.records) as Published } : { server: null, records: [] };
  }

  private remember(domain: string, server: string, records: Published): void {
    if (records.length === 0) this.db.prepare('DELETE FROM dns_published WHERE domain = ?').run(domain);
    else
      this.db
        .prepare('INSERT INTO dns_published (domain, server, records, published_at) VALUES (?, ?, ?, ?) ON CONFLICT(domain) DO UPDATE SET server = excluded.server, records = excluded.records, published_at = excluded.published_at')
        .run(domain, server, JSON.stringify(records), this.clock.now());
  }

  private async publishAll(): Promise<void> {
    const generation = this.generation;
    const c = this.config();
    const server = c.server!;
    const domains = [{ domain: c.domain!, priority: c.priority, weight: c.weight }, ...c.extraDomains.filter((d, i, all) => d.domain !== c.domain && all.findIndex((x) => x.domain === d.domain) === i)];
    let failed = false;
    // records in domains no longer configured, or published through another server, are ours: remove them there
    for (const row of this.db.prepare('SELECT domain, server FROM dns_published').all() as { domain: string; server: string }[]) {
      if (!domains.some((d) => d.domain === row.domain) || row.server !== server) {
        if (!(await this.unpublishDomain(row.domain))) failed = true;
      }
    }
    for (const d of domains) {
      if (!this.config().enabled) return; // -cdns or unpublish meanwhile
      const want = this.desired(c, d.domain, d.priority, d.weight);
      const had = this.previous(d.domain).records;
      const same = (a: Published[number], b: Published[number]) => a.type === b.type && JSON.stringify({ ...a.rr, ttl: 0 }) === JSON.stringify({ ...b.rr, ttl: 0 });
      const stale = had.filter((h) => !want.some((w) => same(h, w)));
      // our old records that are no longer wanted (a new port, priority or name) go first
      const ops: UpdateOp[] = [...stale.map((h) => ({ op: 'delete' as const, record: h as never })), ...want.map((w) => ({ op: 'add' as const, record: w as never }))];
      // before sending, remember everything that may be in the zone afterwards: if the answer is
      // lost, the next publication still deletes what the server may have applied
      this.remember(d.domain, server, [...had, ...want.filter((w) => !had.some((h) => same(h, w)))]);
      if (await this.update(server, d.domain, ops, 'publish')) this.remember(d.domain, server, want);
      else failed = true;
    }
    if (failed) {
      this.nextAt = this.clock.now() + BACKOFF_MS[Math.min(this.failures, BACKOFF_MS.length - 1)]!;
      this.failures++;
    } else {
      this.failures = 0;
      // a change during this publication (-sdns, a new port) is published at once
      this.nextAt = this.generation === generation ? this.clock.now() + REPUBLISH_MS : 0;
    }
  }

  private async unpublishDomain(domain: string): Promise<boolean> {
    const { server, records } = this.previous(domain);
    if (records.length === 0 || server === null) return true;
    const ok = await this.update(server, domain, records.map((h) => ({ op: 'delete' as const, record: h as never })), 'unpublish');
    if (ok) this.remember(domain, server, []);
    return ok;
  }

  /** `volact host unpublish`: removes this host's records from every domain it published in. */
  unpublishAll(): Promise<{ domain: string; removed: boolean }[]> {
    return this.serial(async () => {
      const domains = (this.db.prepare('SELECT domain FROM dns_published ORDER BY domain').all() as { domain: string }[]).map((r) => r.domain);
      const out = [];
      for (const domain of domains) out.push({ domain, removed: await this.unpublishDomain(domain) });
      return out;
    });
  }

  /** Sends one update; records event 12294 (done) or 12293 (failed, with the answer code and the fix). */
  private async update(server: string, domain: string, ops: UpdateOp[], action: 'publish' | 'unpublish'): Promise<boolean> {
    const key = this.key();
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
