import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { router, sendJson } from './http-server.js';
import { memoryLog } from './log.js';
import { observers, type RequestRecord } from './request-observer.js';

function get(port: number, path: string, ids: unknown[] = []): Promise<number> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      ids.push(res.headers['x-request-id']);
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    })
      .on('error', reject)
      .end();
  });
}

test('the router reports each answer under its route key, unknown paths as one label', async () => {
  const seen: RequestRecord[] = [];
  const twice: RequestRecord[] = [];
  const observe = observers(
    undefined,
    (r) => seen.push(r),
    (r) => twice.push(r),
  );
  const server = createServer(
    router({ 'GET /v1/x': (_q, res) => sendJson(res, 200, { ok: true }) }, memoryLog(), observe),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  try {
    const ids: unknown[] = [];
    assert.equal(await get(port, '/v1/x', ids), 200);
    assert.equal(await get(port, '/random/a1b2', ids), 404);
    assert.equal(await get(port, '//[', ids), 404);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      seen.map((r) => [r.method, r.route, r.status, r.peer]),
      [
        ['GET', 'GET /v1/x', 200, '127.0.0.1'],
        ['GET', 'unmatched', 404, '127.0.0.1'],
        ['GET', 'unmatched', 404, '127.0.0.1'],
      ],
    );
    assert.ok(seen.every((r) => r.seconds >= 0 && r.seconds < 5));
    assert.equal(twice.length, 3);
    assert.deepEqual(
      seen.map((r) => r.requestId),
      ids,
      'each record names the ID its answer carried in X-Request-Id',
    );
    assert.equal(new Set(ids).size, 3, 'one ID per request');
  } finally {
    server.close();
  }
});

test('no observers: nothing to call', () => {
  assert.equal(observers(undefined, undefined), undefined);
});
