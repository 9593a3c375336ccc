import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Registry } from 'prom-client';
import {
  Authority,
  KyselyAuthorityStore,
  initKeys,
  loadKeys,
  openAuthorityDb,
  sampleCatalogPath,
} from '@volact/authority';
import { ManualClock, generateKeyPair, type ActivateRequest } from '@volact/protocol';
import { silentLog } from '@volact/io';
import { Host } from './host.js';
import { openHostDb } from './host-store.js';
import { HostMetrics } from './metrics.js';
import { runHost } from './run-host.js';

/** One sample's value: `name` as exported (a histogram's _count, _sum or _bucket too), with these labels. */
async function sample(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const base = name.replace(/_(count|sum|bucket)$/, '');
  const metric = registry.getSingleMetric(registry.getSingleMetric(name) ? name : base);
  assert.ok(metric, `no metric ${name}`);
  const found = (await metric.get()).values.find(
    (v) =>
      ((v as { metricName?: string }).metricName ?? name) === name &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
  );
  assert.ok(found, `no sample ${name} ${JSON.stringify(labels)}`);
  return found.value;
}

const request = (setupKey: string, now: number): ActivateRequest => ({
  v: 1,
  machineId: randomUUID(),
  fingerprintHash: randomBytes(32).toString('base64url'),
  setupKey,
  nonce: randomBytes(18).toString('base64url'),
  clientTime: now,
  licenseState: 'initialGrace',
  vm: false,
});

describe('host metrics', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-host-metrics-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 10));
  let authority: Authority;
  let setup: Record<string, string>;

  before(async () => {
    initKeys(join(dir, 'auth'), clock.now());
    authority = new Authority(
      loadKeys(join(dir, 'auth')),
      new KyselyAuthorityStore(await openAuthorityDb(join(dir, 'auth', 'a.db'))),
      clock,
    );
    const catalog = await authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'test');
    setup = Object.fromEntries(catalog.editions.map((e) => [e.code, e.setupKey]));
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('counts each decision by outcome and edition kind, each commit, and reads the count only when scraped', async () => {
    const metrics = new HostMetrics();
    const host = new Host({
      db: openHostDb(join(dir, 'host.db')),
      clock,
      keyPair: generateKeyPair('host'),
      roots: [loadKeys(join(dir, 'auth')).root],
      hostName: 'unit-host',
      log: silentLog,
      postAuthority: async (_url, body) => ({ status: 200, body: await authority.activateHost(body as never) }),
      batchObserver: metrics.batch,
    });
    host.setAuthority('http://authority.invalid');
    host.installKey((await authority.issueHostKey('server-2026', {}, 'test')).key);
    await host.activate();
    let reads = 0;
    metrics.watch({
      count: () => (reads++, host.currentCount()),
      activated: () => host.activated,
      ready: () => host.notReady().length === 0,
      dnsFailing: () => 0,
      connections: () => ({ open: 0, refusedPerAddress: 0, refusedTotal: 0, evicted: 0 }),
    });
    // one count for all editions: two client machines, then server machines until it reaches 5
    for (const edition of ['desk-pro', 'desk-pro', 'server-standard', 'server-standard', 'server-standard'])
      await host.activateClient(request(setup[edition]!, clock.now()), '127.0.0.1');
    await host.activateClient(request(setup['desk-pro']!, clock.now()), '127.0.0.1');
    assert.equal(reads, 0, 'answering clients reads no gauge');
    const r = metrics.registry;
    assert.equal(await sample(r, 'volact_host_counted_machines'), 6);
    assert.equal(reads, 1);
    const outcome = (o: string, kind: string) => sample(r, 'volact_host_activations_total', { outcome: o, kind });
    assert.equal(await outcome('countInsufficient', 'client'), 3);
    assert.equal(await outcome('countInsufficient', 'server'), 2);
    assert.equal(await outcome('activated', 'server'), 1);
    assert.equal(await outcome('activated', 'client'), 0);
    assert.equal(await outcome('notActivated', 'none'), 0);
    assert.equal(await sample(r, 'volact_host_count_threshold', { kind: 'client' }), 25);
    assert.equal(await sample(r, 'volact_host_count_threshold', { kind: 'server' }), 5);
    // each awaited request was a batch of its own
    assert.equal(await sample(r, 'volact_host_batch_commit_seconds_count'), 6);
    assert.ok((await sample(r, 'volact_host_batch_commit_seconds_sum')) > 0);
    assert.equal(await sample(r, 'volact_host_activated'), 1);
    assert.equal(await sample(r, 'volact_host_ready'), 1);
  });

  it('counts DNS outcomes and connection refusals, including after a new client port starts its tallies over', async () => {
    const metrics = new HostMetrics();
    let stats = { open: 3, refusedPerAddress: 4, refusedTotal: 1, evicted: 2 };
    metrics.watch({
      count: () => 0,
      activated: () => false,
      ready: () => false,
      dnsFailing: () => 2,
      connections: () => stats,
    });
    metrics.dns('published');
    metrics.dns('refused');
    metrics.dns('refused');
    const r = metrics.registry;
    assert.equal(await sample(r, 'volact_host_dns_publish_total', { outcome: 'refused' }), 2);
    assert.equal(await sample(r, 'volact_host_dns_publish_total', { outcome: 'unconfirmed' }), 0);
    assert.equal(await sample(r, 'volact_host_dns_consecutive_failures'), 2);
    assert.equal(await sample(r, 'volact_host_connections_refused_total', { reason: 'per_address' }), 4);
    assert.equal(await sample(r, 'volact_host_connections_evicted_total'), 2);
    stats = { open: 1, refusedPerAddress: 6, refusedTotal: 1, evicted: 2 };
    assert.equal(await sample(r, 'volact_host_connections_refused_total', { reason: 'per_address' }), 6);
    // -sprt: a new guard counts from 0; the counter never goes back
    stats = { open: 0, refusedPerAddress: 1, refusedTotal: 0, evicted: 1 };
    assert.equal(await sample(r, 'volact_host_connections_refused_total', { reason: 'per_address' }), 7);
    assert.equal(await sample(r, 'volact_host_connections_refused_total', { reason: 'total' }), 1);
    assert.equal(await sample(r, 'volact_host_connections_evicted_total'), 3);
    assert.equal(await sample(r, 'volact_host_connections_open'), 0);
    assert.equal(await sample(r, 'volact_host_activated'), 0);
  });

  it('puts a request time equal to a bucket bound in that bucket (le is inclusive) and sums every time', async () => {
    const metrics = new HostMetrics();
    const record = { method: 'POST', route: 'POST /v1/activate', status: 200, peer: '127.0.0.1', requestId: 'r1' };
    for (const seconds of [0.001, 0.0010001, 3]) metrics.request({ ...record, seconds });
    const r = metrics.registry;
    const labels = { route: 'POST /v1/activate', code: '200' };
    assert.equal(await sample(r, 'volact_host_request_seconds_bucket', { ...labels, le: '0.0005' }), 0);
    assert.equal(await sample(r, 'volact_host_request_seconds_bucket', { ...labels, le: '0.001' }), 1);
    assert.equal(await sample(r, 'volact_host_request_seconds_bucket', { ...labels, le: '0.0025' }), 2);
    assert.equal(await sample(r, 'volact_host_request_seconds_bucket', { ...labels, le: '2.5' }), 2);
    assert.equal(await sample(r, 'volact_host_request_seconds_bucket', { ...labels, le: '+Inf' }), 3);
    assert.equal(await sample(r, 'volact_host_request_seconds_count', labels), 3);
    assert.ok(Math.abs((await sample(r, 'volact_host_request_seconds_sum', labels)) - 3.0020001) < 1e-9);
  });

  it('runHost serves metrics on their own listener, never on the client port', async () => {
    const running = await runHost({
      dir: join(dir, 'served'),
      clock,
      rootPem: readFileSync(join(dir, 'auth', 'root.pub'), 'utf8'),
      port: 0,
      listenAddress: '127.0.0.1',
      log: silentLog,
      metrics: { address: { host: '127.0.0.1', port: 0 }, explicit: true },
    });
    try {
      const client = `http://127.0.0.1:${running.port()}`;
      assert.equal((await fetch(`${client}/metrics`)).status, 404);
      const answer = await fetch(`${client}/v1/activate`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(request(setup['desk-pro']!, clock.now())),
      });
      assert.equal(answer.status, 503); // not activated
      const text = await (await fetch(`http://127.0.0.1:${running.metricsAddress!.port}/metrics`)).text();
      assert.match(text, /^volact_host_activations_total\{outcome="notActivated",kind="none"\} 1$/m);
      assert.match(text, /^volact_host_activated 0$/m);
      assert.match(text, /^volact_host_ready 0$/m);
      assert.match(text, /^volact_host_request_seconds_count\{route="POST \/v1\/activate",code="503"\} 1$/m);
      assert.match(text, /^volact_host_request_seconds_count\{route="unmatched",code="404"\} 1$/m);
    } finally {
      await running.close();
    }
  });

  it('refuses to start on a metrics address given and taken, and leaves nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = { host: '127.0.0.1', port: (blocker.address() as AddressInfo).port };
    const opts = { dir: join(dir, 'served'), clock, port: 0, listenAddress: '127.0.0.1', log: silentLog };
    try {
      await assert.rejects(
        runHost({ ...opts, metrics: { address: taken, explicit: true } }),
        (e: { code?: string }) => e.code === 'PORT_UNAVAILABLE',
      );
      // the admin socket, the client port and the database were let go: the same host starts again
      const again = await runHost({ ...opts, metrics: { address: taken, explicit: false } });
      assert.equal(again.metricsAddress, undefined);
      await again.close();
    } finally {
      blocker.close();
    }
  });
});
