import { Counter, Gauge, Histogram } from 'prom-client';
import { renderRegistry, roleRegistry, type RequestObserver } from '@volact/io';
import type { AuthorityStore, HostActivationInput, MakActivationInput } from './store.js';
import type { Dialect } from './db/open.js';

/** A connection pool's figures (pg.Pool has them); SQLite has one connection and no pool. */
export type PoolFigures = { totalCount: number; idleCount: number; waitingCount: number };

/** What the authority's gauges read at each scrape. */
export type AuthoritySources = {
  dialect: Dialect;
  pool: PoolFigures | undefined;
  /** Resolves when GET /v1/ready would answer 200. */
  ready: () => Promise<void>;
};

const requestBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/**
 * The authority's Prometheus metrics, in a registry of its own: requests, rate-limit refusals,
 * activations by outcome, the store's errors and the database pool, and Node's process metrics.
 */
export class AuthorityMetrics {
  readonly registry = roleRegistry();
  /** The text a scrape answers. */
  readonly render = renderRegistry(this.registry);
  /** For authorityServer: each answered request's time by route and status. */
  readonly request: RequestObserver;
  /** For RateLimiter: a refusal, by the limit that refused. */
  readonly rateLimited: (limit: 'address' | 'key') => void;
  private readonly activations: Counter<'key' | 'channel' | 'outcome'>;
  private readonly dbErrors: Counter<'operation'>;
  private sources: AuthoritySources | undefined;

  constructor() {
    const registers = [this.registry];
    const seconds = new Histogram({
      name: 'volact_authority_request_seconds',
      help: 'Time to answer an API request, by route and HTTP status',
      labelNames: ['route', 'code'] as const,
      buckets: requestBuckets,
      registers,
    });
    this.request = (r) => seconds.observe({ route: r.route, code: String(r.status) }, r.seconds);
    const limited = new Counter({
      name: 'volact_authority_rate_limited_total',
      help: 'Activation requests refused with 429 RATE_LIMITED, by the limit that refused (per address, per key)',
      labelNames: ['limit'] as const,
      registers,
    });
    for (const limit of ['address', 'key']) limited.inc({ limit }, 0);
    this.rateLimited = (limit) => limited.inc({ limit });
    this.activations = new Counter({
      name: 'volact_authority_activations_total',
      help: 'Activations the database decided, by key (host: host, datacenter and directory keys; mak), channel (online, or offline: confirmation IDs) and outcome',
      labelNames: ['key', 'channel', 'outcome'] as const,
      registers,
    });
    this.dbErrors = new Counter({
      name: 'volact_authority_db_errors_total',
      help: 'Store calls that failed with an error (the database did not answer, or refused a statement), by operation',
      labelNames: ['operation'] as const,
      registers,
    });
    this.databaseGauges();
  }

  /** Gives the running authority's parts to the gauges. */
  watch(sources: AuthoritySources): void {
    this.sources = sources;
  }

  /**
   * The store as the authority uses it, counting each call that rejects (by method) and each
   * activation's outcome; the store itself is unchanged.
   */
  watchStore<S extends AuthorityStore>(store: S): S {
    const wrapped = new Map<PropertyKey, unknown>();
    const fail = (operation: string) => (err: unknown) => {
      this.dbErrors.inc({ operation });
      throw err;
    };
    const count = (operation: string, args: unknown[]) => (result: unknown) => {
      const outcome = (result as { kind: string }).kind;
      if (operation === 'activateHost') {
        const input = args[0] as HostActivationInput;
        // an offline confirmation's request ID is iid:… (offline-confirmation.ts)
        this.activations.inc({
          key: 'host',
          channel: input.requestId.startsWith('iid:') ? 'offline' : 'online',
          outcome,
        });
      } else {
        const input = args[0] as MakActivationInput;
        this.activations.inc({ key: 'mak', channel: input.iidHash === undefined ? 'online' : 'offline', outcome });
      }
      return result;
    };
    return new Proxy(store, {
      get: (target, prop, receiver) => {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string' || prop === 'constructor') return value;
        let fn = wrapped.get(prop);
        if (fn === undefined) {
          const counts = prop === 'activateHost' || prop === 'activateMak';
          fn = (...args: unknown[]) => {
            const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
            if (!(out instanceof Promise)) return out;
            return (counts ? out.then(count(prop, args)) : out).catch(fail(prop));
          };
          wrapped.set(prop, fn);
        }
        return fn;
      },
    });
  }

  private databaseGauges(): void {
    const registers = [this.registry];
    const metrics = () => this.sources;
    new Gauge({
      name: 'volact_authority_database_info',
      help: 'The database the authority uses (dialect: sqlite, or postgres with the pool gauges); always 1',
      labelNames: ['dialect'] as const,
      registers,
      collect() {
        const s = metrics();
        if (s) this.set({ dialect: s.dialect }, 1);
      },
    });
    new Gauge({
      name: 'volact_authority_db_pool_connections',
      help: 'PostgreSQL pool connections by state (open: all, idle: free for a query); none on SQLite',
      labelNames: ['state'] as const,
      registers,
      collect() {
        const pool = metrics()?.pool;
        if (!pool) return;
        this.set({ state: 'open' }, pool.totalCount);
        this.set({ state: 'idle' }, pool.idleCount);
      },
    });
    new Gauge({
      name: 'volact_authority_db_pool_waiting',
      help: 'Queries waiting for a PostgreSQL pool connection (all are busy); none on SQLite',
      registers,
      collect() {
        const pool = metrics()?.pool;
        if (pool) this.set(pool.waitingCount);
      },
    });
    new Gauge({
      name: 'volact_authority_ready',
      help: '1 when GET /v1/ready would answer 200 (database answers, catalog imported, issuing keys loaded), else 0',
      registers,
      async collect() {
        const s = metrics();
        if (!s) return;
        this.set(
          await s.ready().then(
            () => 1,
            () => 0,
          ),
        );
      },
    });
  }
}
