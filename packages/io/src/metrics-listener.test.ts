import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { memoryLog } from './log.js';
import { listenMetrics, parseMetricsListen } from './metrics-listener.js';

const render = async () => ({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'up_test 1\n' });
const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

test('--metrics-listen takes IPv4:PORT, [IPv6]:PORT and off, and refuses anything else with USAGE', () => {
  assert.deepEqual(parseMetricsListen('127.0.0.1:9688'), { host: '127.0.0.1', port: 9688 });
  assert.deepEqual(parseMetricsListen('[::1]:9688'), { host: '::1', port: 9688 });
  assert.deepEqual(parseMetricsListen('localhost:0'), { host: 'localhost', port: 0 });
  assert.equal(parseMetricsListen('off'), null);
  for (const bad of ['9688', '127.0.0.1', '::1:9688', 'http://127.0.0.1:9688', 'example.com:9688', ''])
    assert.throws(() => parseMetricsListen(bad), code('USAGE'), bad);
  assert.throws(() => parseMetricsListen('127.0.0.1:70000'), code('VALUE_OUT_OF_RANGE'));
});

test('serves GET and HEAD /metrics only; every other path and method is a 404', async () => {
  const m = (await listenMetrics(render, { host: '127.0.0.1', port: 0 }, true, memoryLog()))!;
  const url = (path: string) => `http://127.0.0.1:${m.address.port}${path}`;
  try {
    const ok = await fetch(url('/metrics'));
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'up_test 1\n');
    assert.match(ok.headers.get('content-type')!, /version=0\.0\.4/);
    assert.equal((await fetch(url('/metrics?x=1'), { method: 'HEAD' })).status, 200);
    for (const [path, method] of [
      ['/', 'GET'],
      ['/metrics/', 'GET'],
      ['/v1/activate', 'POST'],
      ['/metrics', 'POST'],
    ] as const) {
      const r = await fetch(url(path), { method });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal(((await r.json()) as { code: string }).code, 'NOT_FOUND');
    }
  } finally {
    await m.close();
  }
});

test('an address the operator gave that is taken refuses the start; the default one taken only warns', async () => {
  const blocker = createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  const taken = { host: '127.0.0.1', port: (blocker.address() as AddressInfo).port };
  const logged: string[] = [];
  try {
    await assert.rejects(
      listenMetrics(render, taken, true, memoryLog(logged)),
      (e: Error & { code?: string }) => e.code === 'PORT_UNAVAILABLE' && /EADDRINUSE/.test(e.message),
    );
    assert.equal(logged.length, 0);
    assert.equal(await listenMetrics(render, taken, false, memoryLog(logged)), undefined);
    assert.equal(logged.length, 1);
    const warning = JSON.parse(logged[0]!) as { level: string; msg: string };
    assert.equal(warning.level, 'warn');
    assert.match(warning.msg, new RegExp(`127\\.0\\.0\\.1:${taken.port} is taken .*--metrics-listen`));
  } finally {
    blocker.close();
  }
});

test('a collector that fails answers 500 and is logged; the listener keeps serving', async () => {
  let fail = true;
  const logged: string[] = [];
  const flaky = async () => {
    if (fail) throw new Error('boom');
    return render();
  };
  const m = (await listenMetrics(flaky, { host: '127.0.0.1', port: 0 }, true, memoryLog(logged)))!;
  try {
    assert.equal((await fetch(`http://127.0.0.1:${m.address.port}/metrics`)).status, 500);
    assert.match(logged[0]!, /"level":"error".*boom/);
    fail = false;
    assert.equal((await fetch(`http://127.0.0.1:${m.address.port}/metrics`)).status, 200);
  } finally {
    await m.close();
  }
});
