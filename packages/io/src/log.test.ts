import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { accessLog, roleLogger } from './log.js';

test('a role logger writes JSON lines with ISO time, the level as a word and the role, all of them by drain()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-log-'));
  try {
    const file = join(dir, 'host.log');
    const log = roleLogger('host', file);
    const observe = accessLog(log);
    for (let i = 0; i < 5000; i++)
      observe({
        method: 'POST',
        route: 'POST /v1/activate',
        status: 200,
        seconds: 0.0012345,
        peer: '10.0.0.1',
        requestId: `r-${i}`,
      });
    log.warn({ key: 'ABCDE-FGHIJ', token: 'vat_x', detail: 'kept' }, 'a mistake');
    await log.drain();
    const lines = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 5001, 'every line is in the file once drain() resolves');
    const first = lines[0]!;
    assert.match(first.time as string, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.deepEqual(
      [first.level, first.role, first.msg, first.requestId, first.route, first.status, first.ms, first.peer],
      ['info', 'host', 'request', 'r-0', 'POST /v1/activate', 200, 1.235, '10.0.0.1'],
    );
    const last = lines.at(-1)!;
    assert.deepEqual(
      [last.level, last.key, last.token, last.detail],
      ['warn', '[redacted]', '[redacted]', 'kept'],
      'fields named like secrets are censored, as a safety net',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the access log's own lines read as pino's would, whatever a field holds", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-access-'));
  try {
    const file = join(dir, 'host.log');
    const log = roleLogger('host', file);
    const observe = accessLog(log);
    const base = { route: 'POST /v1/activate', status: 200, seconds: 0.0012345, requestId: 'ab12-1' };
    observe({ ...base, method: 'POST', peer: '::ffff:127.0.0.1' });
    observe({ ...base, method: 'GET"\\', peer: 'fe80::1%e"th0', route: 'unmatched', status: 499 });
    log.info(
      {
        requestId: 'ab12-1',
        method: 'POST',
        route: 'POST /v1/activate',
        status: 200,
        ms: 1.235,
        peer: '::ffff:127.0.0.1',
      },
      'request',
    );
    await log.drain();
    const [fast, odd, pino] = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(fast && odd && pino);
    const { time: t1, ...a } = fast;
    const { time: t2, ...b } = pino;
    assert.deepEqual(a, b, 'the same fields, values and order as pino writes');
    assert.deepEqual(Object.keys(fast), Object.keys(pino));
    assert.match(String(t1), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(t2);
    assert.equal(odd.method, 'GET"\\');
    assert.equal(odd.peer, 'fe80::1%e"th0');
    assert.equal(odd.status, 499);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
