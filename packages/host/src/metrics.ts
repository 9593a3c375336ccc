import { Counter, Gauge } from 'prom-client';
import { defaults, type EditionKind } from '@volact/protocol';
import { renderRegistry, roleRegistry, type ConnectionStats, type RequestObserver } from '@volact/io';
import type { BatchObserver, Outcome } from './activation-batch.js';
import type { EventOutcome } from './dns-records.js';
import { FastCounter, FastHistogram } from './metrics-fast.js';

/** What the host's gauges read at each scrape (runHost gives the running host's parts). */
export type HostSources = {
  count: () => number;
  activated: () => boolean;
  ready: () => boolean;
  dnsFailing: () => number;
  connections: () => ConnectionStats;
};

const outcomes: Outcome[] = [
  'activated',
  'renewed',
  'countInsufficient',
  'editionNotCovered',
  'clockSkew',
  'notActivated',
];
const dnsOutcomes: EventOutcome[] = ['published', 'removed', 'refused', 'unconfirmed'];

/** Request times: the client port answers in milliseconds; a second is a problem. */
const requestBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** One SQLite transaction per batch: tens of microseconds cached, milliseconds with fsync. */
const commitBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * The host's Prometheus metrics, in a registry of its own (several hosts in one process keep
 * theirs apart). What each request counts goes through metrics-fast.ts, with label children
 * made once; gauges read the host's state only when scraped.
 */
export class HostMetrics {
  readonly registry = roleRegistry();
  /** The text a scrape answers. */
  readonly render = renderRegistry(this.registry);
  /** For ActivationBatch: the commit's time and each decision. */
  readonly batch: BatchObserver;
  /** For clientServer: each answered request's time by route and status. */
  readonly request: RequestObserver;
  /** For DnsPublisher.observe: each update's outcome. */
  readonly dns: (outcome: EventOutcome) => void;
  private sources: HostSources | undefined;

  constructor() {
    const registers = [this.registry];
    const activations = new FastCounter(
      'volact_host_activations_total',
      'Client activation requests answered, by outcome and edition kind (none: the host is not activated)',
      this.registry,
    );
    // every series exists from the start, so rate() and absent() see it before the first request
    const byOutcome = new Map(
      outcomes.map((outcome) => {
        const own = outcome === 'notActivated' ? ['none'] : ['client', 'server'];
        return [outcome, Object.fromEntries(own.map((kind) => [kind, activations.child({ outcome, kind })]))];
      }),
    );
    const commit = new FastHistogram(
      'volact_host_batch_commit_seconds',
      'Time of one group commit: the SQLite transaction that counts and records a batch of requests',
      this.registry,
      commitBuckets,
    ).child({});
    this.batch = {
      committed: commit,
      decided: (outcome, kind) => byOutcome.get(outcome)![kind ?? 'none']?.(),
    };
    this.request = this.requestObserver();
    const dns = new Counter({
      name: 'volact_host_dns_publish_total',
      help: 'DNS updates sent to publish or remove the SRV record, by outcome',
      labelNames: ['outcome'] as const,
      registers,
    });
    for (const o of dnsOutcomes) dns.inc({ outcome: o }, 0);
    const dnsChildren = new Map(dnsOutcomes.map((o) => [o, dns.labels(o)]));
    this.dns = (outcome) => dnsChildren.get(outcome)?.inc();
    this.stateGauges();
    this.connectionMetrics();
  }

  /** Gives the running host's parts to the gauges; until then they show nothing. */
  watch(sources: HostSources): void {
    this.sources = sources;
  }

  private requestObserver(): RequestObserver {
    const seconds = new FastHistogram(
      'volact_host_request_seconds',
      'Time to answer a request on the client port, by route and HTTP status',
      this.registry,
      requestBuckets,
    );
    // route and status are bounded sets (the router's keys, unmatched, not-served): one child each, made once
    const children = new Map<string, Map<number, (value: number) => void>>();
    return (r) => {
      let byStatus = children.get(r.route);
      if (byStatus === undefined) children.set(r.route, (byStatus = new Map()));
      let child = byStatus.get(r.status);
      if (child === undefined)
        byStatus.set(r.status, (child = seconds.child({ route: r.route, code: String(r.status) })));
      child(r.seconds);
    };
  }

  private stateGauges(): void {
    const registers = [this.registry];
    const metrics = () => this.sources;
    new Gauge({
      // not volact_host_count: a _count suffix is a histogram's, and promtool flags it
      name: 'volact_host_counted_machines',
      help: 'The count: distinct machines that asked in the last 30 days, compared with the thresholds',
      registers,
      collect() {
        const s = metrics();
        if (s) this.set(s.count());
      },
    });
    const thresholds = new Gauge({
      name: 'volact_host_count_threshold',
      help: 'The count an edition kind needs before the host activates its machines',
      labelNames: ['kind'] as const,
      registers,
    });
    thresholds.set({ kind: 'client' satisfies EditionKind }, defaults.clientThreshold);
    thresholds.set({ kind: 'server' satisfies EditionKind }, defaults.serverThreshold);
    const flag = (name: string, help: string, read: (s: HostSources) => boolean) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const s = metrics();
          if (s) this.set(read(s) ? 1 : 0);
        },
      });
    flag('volact_host_activated', '1 when the host holds an activated host key, else 0', (s) => s.activated());
    flag('volact_host_ready', '1 when GET /v1/ready would answer 200 (database answers, activated)', (s) => s.ready());
    new Gauge({
      name: 'volact_host_dns_consecutive_failures',
      help: 'DNS publications in a row that did not go through; 0 after one that did',
      registers,
      collect() {
        const s = metrics();
        if (s) this.set(s.dnsFailing());
      },
    });
  }

  /** The connection guard's tallies, read at each scrape; a new client port (-sprt) starts them over. */
  private connectionMetrics(): void {
    const registers = [this.registry];
    const metrics = () => this.sources;
    new Gauge({
      name: 'volact_host_connections_open',
      help: 'Open connections on the client port',
      registers,
      collect() {
        const s = metrics();
        if (s) this.set(s.connections().open);
      },
    });
    const seen = { refusedPerAddress: 0, refusedTotal: 0, evicted: 0 };
    const advance = (counter: Counter<'reason'> | Counter, key: keyof typeof seen, now: number, reason?: string) => {
      // the guard of a new port starts from 0: then all it has is new
      const delta = now >= seen[key] ? now - seen[key] : now;
      seen[key] = now;
      if (delta > 0) reason ? (counter as Counter<'reason'>).inc({ reason }, delta) : counter.inc(delta);
    };
    const refused = new Counter({
      name: 'volact_host_connections_refused_total',
      help: 'Client connections refused at a cap (per_address: one address has too many; total: all are busy)',
      labelNames: ['reason'] as const,
      registers,
      collect() {
        const s = metrics();
        if (!s) return;
        const c = s.connections();
        advance(this, 'refusedPerAddress', c.refusedPerAddress, 'per_address');
        advance(this, 'refusedTotal', c.refusedTotal, 'total');
      },
    });
    refused.inc({ reason: 'per_address' }, 0);
    refused.inc({ reason: 'total' }, 0);
    new Counter({
      name: 'volact_host_connections_evicted_total',
      help: 'Idle client connections closed to make room at the total cap',
      registers,
      collect() {
        const s = metrics();
        if (s) advance(this, 'evicted', s.connections().evicted);
      },
    });
  }
}
