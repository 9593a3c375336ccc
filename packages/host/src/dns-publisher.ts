import type { Log } from '@volact/io';
import { HOUR, MINUTE, VolactError, type Clock, type ErrorCode } from '@volact/protocol';
import { sameRecord, type DnsRecord, type EventOutcome, type ZoneRecords } from './dns-records.js';
import type { HostStore } from './host-store.js';
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

export const defaultDnsConfig: DnsConfig = {
  enabled: true,
  server: null,
  domain: null,
  target: null,
  address: null,
  priority: 0,
  weight: 0,
  ttl: 3600,
  extraDomains: [],
};

export const REPUBLISH_MS = 24 * HOUR;

/** A host name's first label as a DNS label: lower case, anything else than a-z 0-9 - becomes -. */
export function defaultLabel(name: string): string {
  const label = name
    .split('.')[0]!
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return label || 'volact-host';
}
const BACKOFF_MS = [MINUTE, 2 * MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR];

export type Send = typeof sendUpdate;

/**
 * What one update did, as far as its answer shows: `done` (a signed NOERROR), `refused` (an answer
 * that says nothing was applied) or `unconfirmed` (no answer that says either way).
 */
export type UpdateOutcome = 'done' | 'refused' | 'unconfirmed';

/** What `host unpublish` did in one domain; `confirmed`: whether any of the records had been confirmed published. */
export type Unpublished = { domain: string; removed: boolean; confirmed: boolean; code: ErrorCode | null };

/**
 * Answers that say the server applied nothing. An update is all or nothing, and these are given
 * before anything changes: the zone (NOTAUTH, NOTZONE), the message (FORMERR, NOTIMP) and the
 * permission (REFUSED) are checked first (RFC 2136 §3.1-3.3), and a TSIG failure stops the request
 * before it is processed (RFC 8945 §5.2). SERVFAIL is not among them: a secondary that forwards
 * updates (RFC 2136 §6) may answer it although the primary applied the update.
 *
 * A server cannot sign a BADSIG or BADKEY answer, so these refusals are believed unsigned; but
 * sendUpdate takes an unsigned answer only if no signed one comes before its timeout, so a forged
 * refusal must also suppress the real answer.
 */
const NOT_APPLIED = new Set(['FORMERR', 'NOTIMP', 'REFUSED', 'NOTAUTH', 'NOTZONE']);

const deleteOp = (record: DnsRecord): UpdateOp => ({ op: 'delete', record });
const addOp = (record: DnsRecord): UpdateOp => ({ op: 'add', record });

/** HOST, HOST:PORT, [V6]:PORT or a bare IPv6 address; port 53 by default. */
export function serverOf(spec: string): { host: string; port: number } {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  const parts = spec.split(':');
  const [host, portText] = bracket
    ? [bracket[1]!, bracket[2]]
    : parts.length === 2
      ? [parts[0]!, parts[1]]
      : [spec, undefined];
  if (!host || !/^[A-Za-z0-9.:-]+$/.test(host) || (portText !== undefined && !/^\d+$/.test(portText)))
    throw new VolactError('USAGE', { detail: `the DNS server ${spec} is not HOST[:PORT]` });
  const port = portText ? Number(portText) : 53;
  if (port < 1 || port > 65535)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'DNS server port', min: 1, max: 65535, value: port });
  return { host, port };
}

/**
 * Publishes the host's own SRV record (`_volact._tcp.<domain>`) in its home domain and each
 * extra domain, and its A/AAAA record if configured: at start, then every 24 hours, retrying a
 * failed update with backoff. It remembers exactly what it published, and what it sent without
 * a confirmation (dns-records.ts), so it only ever deletes its own records, never another host's
 * in the same set. Failures are events with the DNS answer code and the fix; they never stop the
 * host from serving.
 */
export class DnsPublisher {
  private nextAt = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Told each update's outcome as its event shows it (metrics.ts counts them). */
  observe: (outcome: EventOutcome) => void = () => undefined;
  constructor(
    private readonly store: HostStore,
    private readonly clock: Clock,
    private readonly config: () => DnsConfig,
    private readonly port: () => number,
    private readonly key: () => TsigKey | null,
    private readonly log: Log,
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

  /** Publications in a row that did not go through (0 after one that did): what an alert watches. */
  get failing(): number {
    return this.failures;
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

  /** Settings, and what is in each zone: `published` (confirmed) apart from `unconfirmed` (sent, answer lost). */
  get status() {
    const c = this.config();
    const zones = this.store.dnsZones();
    const iso = (t: number | null) => new Date(t ?? 0).toISOString();
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
      nextPublishAt:
        c.enabled && this.configured(c) && this.host().activated
          ? new Date(Math.max(this.nextAt, this.clock.now())).toISOString()
          : null,
      published: zones
        .filter((z) => z.published.length)
        .map((z) => ({ domain: z.domain, server: z.server, at: iso(z.publishedAt), records: z.published })),
      unconfirmed: zones
        .filter((z) => z.unconfirmed.length)
        .map((z) => ({ domain: z.domain, server: z.server, sentAt: iso(z.sentAt), records: z.unconfirmed })),
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
      this.log.error({ error: err instanceof Error ? err.message : String(err) }, 'DNS publication failed');
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
  private desired(c: DnsConfig, domain: string, priority: number, weight: number): DnsRecord[] {
    const target = this.target(c)!;
    const srv: SrvRecord = { name: `_volact._tcp.${domain}`, priority, weight, port: this.port(), target, ttl: c.ttl };
    const records: DnsRecord[] = [{ type: 'SRV', rr: srv }];
    if (c.address && domain === c.domain)
      records.push({
        type: c.address.includes(':') ? 'AAAA' : 'A',
        rr: { name: target, address: c.address, family: c.address.includes(':') ? 6 : 4, ttl: c.ttl },
      });
    return records;
  }

  private async publishAll(): Promise<void> {
    const generation = this.generation;
    const c = this.config();
    const server = c.server!;
    const domains = [
      { domain: c.domain!, priority: c.priority, weight: c.weight },
      ...c.extraDomains.filter(
        (d, i, all) => d.domain !== c.domain && all.findIndex((x) => x.domain === d.domain) === i,
      ),
    ];
    let failed = false;
    // records in domains no longer configured, or published through another server, are ours: remove them there
    for (const z of this.store.dnsZones()) {
      if (!domains.some((d) => d.domain === z.domain) || z.server !== server) {
        if (!(await this.unpublishDomain(z.domain)).removed) failed = true;
      }
    }
    for (const d of domains) {
      if (!this.config().enabled) return; // -cdns or unpublish meanwhile
      if ((await this.publishDomain(server, d.domain, this.desired(c, d.domain, d.priority, d.weight))) !== 'done')
        failed = true;
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

  /** One domain: our stale records out, the wanted ones in, in one update. */
  private async publishDomain(server: string, domain: string, want: DnsRecord[]): Promise<UpdateOutcome> {
    const before: ZoneRecords = this.store.dnsZone(domain) ?? {
      domain,
      server,
      published: [],
      publishedAt: null,
      unconfirmed: [],
      sentAt: null,
    };
    const had = [...before.published, ...before.unconfirmed];
    // our old records that are no longer wanted (a new port, priority or name) go first
    const stale = had.filter((h) => !want.some((w) => sameRecord(h, w)));
    // Before sending, remember what may be in the zone afterwards: if the answer is lost, the next
    // publication or unpublish still deletes what the server may have applied. Until the server
    // confirms them, the new records are "sent, not confirmed", never "published".
    const added = want.filter((w) => !had.some((h) => sameRecord(h, w)));
    this.store.putDnsZone({
      ...before,
      server,
      unconfirmed: [...before.unconfirmed, ...added],
      sentAt: this.clock.now(),
    });
    const { outcome } = await this.update(server, domain, [...stale.map(deleteOp), ...want.map(addOp)], 'publish');
    if (outcome === 'done')
      this.store.putDnsZone({
        domain,
        server,
        published: want,
        publishedAt: this.clock.now(),
        unconfirmed: [],
        sentAt: null,
      });
    // a refused update changed nothing in the zone: what this attempt added to the memory goes
    else if (outcome === 'refused') this.store.putDnsZone(before);
    return outcome;
  }

  /** Deletes all our records in one domain; until the server confirms it, they stay remembered as they were. */
  private async unpublishDomain(domain: string): Promise<Unpublished> {
    const z = this.store.dnsZone(domain);
    if (!z) return { domain, removed: true, confirmed: false, code: null };
    const { outcome, code } = await this.update(
      z.server,
      domain,
      [...z.published, ...z.unconfirmed].map(deleteOp),
      'unpublish',
    );
    if (outcome === 'done') this.store.putDnsZone({ ...z, published: [], unconfirmed: [] });
    return { domain, removed: outcome === 'done', confirmed: z.published.length > 0, code };
  }

  /** `volact host unpublish`: removes this host's records, confirmed or not, from every domain it sent them to. */
  unpublishAll(): Promise<Unpublished[]> {
    return this.serial(async () => {
      const out = [];
      for (const z of this.store.dnsZones()) out.push(await this.unpublishDomain(z.domain));
      return out;
    });
  }

  /**
   * Sends one update and says what it did (see NOT_APPLIED); records event 12294 (done) or 12293
   * (failed, with the answer code, the fix, and whether the update was refused or is unconfirmed).
   */
  private async update(
    server: string,
    domain: string,
    ops: UpdateOp[],
    action: 'publish' | 'unpublish',
  ): Promise<{ outcome: UpdateOutcome; code: ErrorCode | null }> {
    const key = this.key();
    let result: UpdateResult | undefined;
    let err: VolactError | undefined;
    let outcome: UpdateOutcome = 'unconfirmed';
    if (!key) {
      err = new VolactError('DNS_UPDATE_FAILED', {
        server,
        domain,
        detail: 'the host has no TSIG key (--tsig-key); nothing was sent',
      });
      outcome = 'refused';
    } else {
      try {
        // TSIG's time is checked by the DNS server against its own clock (5 minutes of fudge): the
        // system clock, not the host's (possibly test) clock, which only decides when to publish
        result = await this.send(serverOf(server), domain, ops, key, Math.floor(Date.now() / 1000));
        if (result.tsigError)
          err = new VolactError('DNS_TSIG_REJECTED', {
            server,
            domain,
            rcode: result.rcode,
            tsigError:
              ({ 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME' } as Record<number, string>)[result.tsigError] ??
              `TSIG error ${result.tsigError}`,
          });
        else if (result.rcode === 'REFUSED' || result.rcode === 'NOTAUTH')
          err = new VolactError('DNS_UPDATE_REFUSED', { server, domain, rcode: result.rcode });
        else if (result.rcode !== 'NOERROR')
          err = new VolactError('DNS_UPDATE_FAILED', { server, domain, detail: `the server answered ${result.rcode}` });
        else if (!result.signedAnswer) err = new VolactError('DNS_ANSWER_UNSIGNED', { server, domain });
        if (!err) outcome = 'done';
        else if (result.tsigError || NOT_APPLIED.has(result.rcode)) outcome = 'refused';
      } catch (e) {
        err =
          e instanceof VolactError
            ? e
            : new VolactError('DNS_UPDATE_FAILED', {
                server,
                domain,
                detail: e instanceof Error ? e.message : String(e),
              });
      }
    }
    const shown: EventOutcome = outcome === 'done' ? (action === 'publish' ? 'published' : 'removed') : outcome;
    const event = {
      event: err ? (12293 as const) : (12294 as const),
      domain,
      server,
      rcode: result?.rcode ?? null,
      code: err?.code ?? null,
      message: err
        ? err.message
        : `${shown} ${ops
            .filter((o) => o.op === (action === 'publish' ? 'add' : 'delete'))
            .map((o) => `${o.record.type} ${String(o.record.rr.name)}`)
            .join(', ')}`,
      fix: err?.fix ?? null,
      outcome: shown,
    };
    this.store.addDnsEvent(this.clock.now(), event);
    if (err) this.log.warn(event, 'DNS update');
    else this.log.info(event, 'DNS update');
    this.observe(shown);
    return { outcome, code: err?.code ?? null };
  }

  /** Drops events older than `retentionMs` (run with the host's hourly pruning). */
  prune(retentionMs: number): void {
    this.store.pruneDnsEvents(this.clock.now() - retentionMs);
  }

  events(limit = 100) {
    return this.store.dnsEvents(limit);
  }
}
