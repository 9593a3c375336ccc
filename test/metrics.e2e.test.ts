import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { track } from './harness/children.js';
import { tempDir, volact } from './harness/cli.js';
import { activationBody, makeMachine, post } from './harness/machines.js';
import { freePort, systemBinary } from './harness/ports.js';
import { startService, type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

/** Holds a loopback port (`port` 0: any free one); resolves with the server, or null when it is taken already. */
function hold(port: number): Promise<Server | null> {
  const s = createServer();
  return new Promise((resolve) => {
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => resolve(s));
  });
}

const RULES = new URL('../../packaging/prometheus/volact-rules.yml', import.meta.url).pathname;
const PACKAGES = 'prometheus';

/** The metrics port in a service's `listening` log line (`"metrics":"http://127.0.0.1:PORT/metrics"`). */
async function metricsPort(service: Service): Promise<number> {
  for (let i = 0; i < 50; i++) {
    const m = /"metrics":"http:\/\/127\.0\.0\.1:(\d+)\/metrics"/.exec(service.output());
    if (m) return Number(m[1]);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no metrics line in:\n${service.output()}`);
}

/** Polls until `probe` gives a value (Prometheus scrapes every second); the last miss is the error. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${what}: not within ${ms} ms${last ? ` (${String(last)})` : ''}`);
}

/**
 * Prometheus metrics (issue 14): a real Prometheus scrapes the authority's and the host's metrics
 * listeners on loopback; after simulated machines activate, the count and the outcomes read
 * through Prometheus' own query API are the host's, and the example alert rules evaluate on them.
 */
describe('metrics scraped by a real Prometheus', { timeout: 240_000 }, () => {
  const tmp = tempDir('volact-metrics-');
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let prometheus: ChildProcess | undefined;
  let promPort = 0;
  const ports = { authority: 0, host: 0 };
  const hostDir = () => join(tmp.path, 'host');

  before(async () => {
    world = await makeAuthority(tmp.path);
    authority = await world.serve({}, ['--metrics-listen', '127.0.0.1:0']);
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      extra: ['--metrics-listen', '127.0.0.1:0'],
    });
    ports.authority = await metricsPort(authority);
    ports.host = await metricsPort(host);
    const key = await world.issueHostKey('server-2026');
    for (const args of [['-ipk', key], ['-ato']]) {
      const r = await volact(['slmgr', '--host', hostDir(), ...args]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const dir = join(tmp.path, 'prometheus');
    mkdirSync(dir);
    promPort = await freePort();
    writeFileSync(
      join(dir, 'prom.yml'),
      [
        'global: {scrape_interval: 1s, evaluation_interval: 1s}',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        `  - {job_name: volact-host, static_configs: [{targets: ['127.0.0.1:${ports.host}']}]}`,
        `  - {job_name: volact-authority, static_configs: [{targets: ['127.0.0.1:${ports.authority}']}]}`,
        '',
      ].join('\n'),
    );
    prometheus = track(
      spawn(
        systemBinary('prometheus', PACKAGES),
        [
          `--config.file=${join(dir, 'prom.yml')}`,
          `--storage.tsdb.path=${join(dir, 'data')}`,
          `--web.listen-address=127.0.0.1:${promPort}`,
        ],
        { stdio: 'ignore' },
      ),
    );
  });

  after(async () => {
    if (prometheus && prometheus.exitCode === null && prometheus.signalCode === null) {
      const exited = new Promise((r) => prometheus!.once('exit', r));
      prometheus.kill('SIGTERM');
      await exited;
    }
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  /**
   * One instant query through Prometheus' HTTP API: the value of each series, by its labels. Every
   * query here expects series, so an empty answer is asked again for a while: a scrape that missed
   * its 1 s timeout (a loaded machine) marks the target's series stale until the next one.
   */
  const query = async (expr: string): Promise<{ metric: Record<string, string>; value: number }[]> => {
    const once = async () => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/query?query=${encodeURIComponent(expr)}`);
      const body = (await r.json()) as { status: string; data: { result: { metric: any; value: [number, string] }[] } };
      assert.equal(body.status, 'success');
      return body.data.result.map((s) => ({ metric: s.metric, value: Number(s.value[1]) }));
    };
    return eventually(
      `series for ${expr}`,
      async () => {
        const result = await once();
        return result.length ? result : undefined;
      },
      15_000,
    ).catch(once);
  };

  test('the client port and the API port answer 404 to /metrics; the metrics listener serves only /metrics', async () => {
    for (const port of [host.port, authority.port]) {
      const r = await fetch(`http://127.0.0.1:${port}/metrics`);
      assert.equal(r.status, 404);
      assert.equal(((await r.json()) as { code: string }).code, 'NOT_FOUND');
    }
    assert.equal((await fetch(`http://127.0.0.1:${ports.host}/v1/activate`)).status, 404);
    assert.equal((await fetch(`http://127.0.0.1:${ports.host}/metrics`, { method: 'POST' })).status, 404);
    const ok = await fetch(`http://127.0.0.1:${ports.host}/metrics`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  });

  test('every scrape passes promtool check metrics (names, help, types)', async () => {
    const promtool = systemBinary('promtool', PACKAGES);
    for (const port of [ports.host, ports.authority]) {
      const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      assert.match(text, /^process_cpu_user_seconds_total /m, 'the default process metrics');
      const check = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
      assert.equal(check.status, 0, check.stdout + check.stderr);
      assert.equal(check.stdout + check.stderr, '');
    }
  });

  test('the example alert rules pass promtool check rules', () => {
    const check = spawnSync(systemBinary('promtool', PACKAGES), ['check', 'rules', RULES], { encoding: 'utf8' });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    assert.match(check.stdout, /SUCCESS: \d+ rules found/);
  });

  test('Prometheus reads the count and the outcomes after machines activate', async () => {
    // the count is one number for all editions: 2 client machines, then 3 server machines reach 5
    const now = Date.now();
    const send = async (edition: string) =>
      (await post(host.port, '/v1/activate', JSON.stringify(activationBody(world.setupKeys[edition]!, now)))).status;
    // a signed COUNT_INSUFFICIENT answer is a 200 too: the outcomes below tell them apart
    for (const edition of ['desk-pro', 'desk-enterprise', 'server-standard', 'server-standard', 'server-datacenter'])
      assert.equal(await send(edition), 200);
    // and one real client through the CLI, with the threshold met
    const machine = await makeMachine(tmp.path, 'srv', {
      root: world.rootPub,
      key: world.setupKeys['server-standard']!,
      host: `127.0.0.1:${host.port}`,
    });
    const ato = await machine.run(['-ato']);
    assert.equal(ato.code, 0, ato.stdout + ato.stderr);

    const count = await eventually('volact_host_counted_machines = 6 in Prometheus', async () => {
      const [s] = await query('volact_host_counted_machines{job="volact-host"}');
      return s?.value === 6 ? s : undefined;
    });
    assert.equal(count.metric.instance, `127.0.0.1:${ports.host}`);
    const outcomes = async () =>
      Object.fromEntries(
        (await query('volact_host_activations_total{job="volact-host"} > 0')).map((s) => [
          `${s.metric.outcome}/${s.metric.kind}`,
          s.value,
        ]),
      );
    assert.deepEqual(await outcomes(), {
      'countInsufficient/client': 2,
      'countInsufficient/server': 2,
      'activated/server': 2,
    });
    const thresholds = await query('volact_host_count_threshold');
    assert.deepEqual(thresholds.map((s) => [s.metric.kind, s.value]).sort(), [
      ['client', 25],
      ['server', 5],
    ]);
    assert.equal((await query('volact_host_activated'))[0]?.value, 1);
    assert.equal((await query('volact_host_ready'))[0]?.value, 1);
    // requests on the client port, by route and status, as the histogram counts them
    // a request is timed when its answer has gone, just after the commit the count shows: wait for the scrape after
    const codes = async () =>
      Object.fromEntries(
        (await query('sum by (code) (volact_host_request_seconds_count{route="POST /v1/activate"})')).map((s) => [
          s.metric.code,
          s.value,
        ]),
      );
    await eventually('6 timed answers', async () => ((await codes())['200'] === 6 ? true : undefined)).catch(async () =>
      assert.deepEqual(await codes(), { '200': 6 }),
    );
    assert.deepEqual(await codes(), { '200': 6 });
    assert.ok(((await query('volact_host_batch_commit_seconds_count'))[0]?.value ?? 0) >= 1);
    // the authority activated the host once, online
    const auth = await query('volact_authority_activations_total{job="volact-authority"}');
    assert.deepEqual(
      auth.map((s) => [s.metric.key, s.metric.channel, s.metric.outcome, s.value]),
      [['host', 'online', 'activated', 1]],
    );
    assert.equal((await query('volact_authority_ready'))[0]?.value, 1);
    assert.equal((await query('volact_authority_database_info'))[0]?.metric.dialect, 'sqlite');
  });

  test('the alert rules evaluate on the real series: the count is below the client threshold only', async () => {
    // activated, ready, publishing nothing (no DNS configured), no database errors: only the client count
    // (the server one was pending too while the count was below 5; it ends at the next evaluation)
    let seen: string[] = [];
    await eventually(`only the client count alert (last seen: ${seen.join(', ')})`, async () => {
      const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/alerts`);
      const body = (await r.json()) as { data: { alerts: { labels: Record<string, string>; state: string }[] } };
      seen = body.data.alerts.map((a) => `${a.labels.alertname}${a.labels.kind ? `/${a.labels.kind}` : ''}`).sort();
      return seen.join() === 'VolactHostCountBelowThreshold/client' ? seen : undefined;
    }).catch(() => assert.deepEqual(seen, ['VolactHostCountBelowThreshold/client']));
    const r = await fetch(`http://127.0.0.1:${promPort}/api/v1/rules`);
    const groups = ((await r.json()) as { data: { groups: { rules: { name: string; health: string }[] }[] } }).data
      .groups;
    for (const rule of groups.flatMap((g) => g.rules)) assert.equal(rule.health, 'ok', rule.name);
  });

  test('a metrics address from the settings file counts as given: taken, the host refuses to start', async () => {
    const blocker = (await hold(0))!;
    const taken = (blocker.address() as AddressInfo).port;
    const file = join(tmp.path, 'host.toml');
    writeFileSync(file, `metrics-listen = "127.0.0.1:${taken}"\n`);
    const state = join(tmp.path, 'host-file');
    try {
      const serve = ['host', 'serve', '--state', state, '--root', world.rootPub, '--port', '0'];
      const r = await volact([...serve, '--listen', '127.0.0.1', '--config', file]);
      assert.equal(r.code, 5, r.stdout + r.stderr);
      assert.match(r.stderr, new RegExp(`PORT_UNAVAILABLE.*metrics 127\\.0\\.0\\.1:${taken}, EADDRINUSE`));
      const show = await volact(['host', 'config', '--show', '--state', state, '--config', file, '--json']);
      const row = (show.json as { settings: { setting: string; value: unknown; source: string }[] }).settings.find(
        (x) => x.setting === 'metrics-listen',
      );
      assert.deepEqual(row, { setting: 'metrics-listen', value: `127.0.0.1:${taken}`, source: 'file' });
      const bad = await volact([...serve, '--listen', '127.0.0.1', '--metrics-listen', '0.0.0.0']);
      assert.equal(bad.code, 2, bad.stdout + bad.stderr);
      assert.match(bad.stderr, /USAGE.*--metrics-listen 0\.0\.0\.0: give ADDRESS:PORT/);
    } finally {
      blocker.close();
    }
  });

  test('the default metrics address taken (another host here): the host warns and serves without metrics', async () => {
    // held here, unless something else holds it already: taken either way
    const blocker = await hold(9688);
    let second: Service | undefined;
    try {
      // no --metrics-listen at all (the harness's startHost turns metrics off)
      second = await startService([
        'host',
        'serve',
        '--state',
        join(tmp.path, 'host-default'),
        '--root',
        world.rootPub,
        '--port',
        '0',
        '--listen',
        '127.0.0.1',
      ]);
      const warned = await eventually('the warning', async () =>
        /"level":"warn".*127\.0\.0\.1:9688 is taken/.test(second!.output()) ? true : undefined,
      );
      assert.ok(warned);
      assert.match(second.output(), /"metrics":null[^\n]*"msg":"listening"/);
      assert.equal((await fetch(`http://127.0.0.1:${second.port}/v1/health`)).status, 200);
    } finally {
      await second?.stop();
      blocker?.close();
    }
  });
});
