import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { VolactError } from '@volact/protocol';
import { sendError } from './http-server.js';
import { memoryLog, type LogEntry } from './log.js';

type Answer = { status: number; header: string | null; body: Record<string, unknown>; logged: LogEntry[] };

/** What a client reads when a handler fails with `err`, and what the server logged. */
async function answerTo(err: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const log = memoryLog();
  const server = createServer((_req, res) => sendError(res, err, log));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { headers });
    const body = (await res.json()) as Record<string, unknown>;
    return { status: res.status, header: res.headers.get('x-request-id'), body, logged: log.entries };
  } finally {
    server.close();
  }
}

describe('sendError', () => {
  it('answers an INTERNAL already logged elsewhere with the request ID it was logged under', async () => {
    const { status, header, body, logged } = await answerTo(
      new VolactError('INTERNAL', { requestId: 'batch-1700000000000' }),
    );
    assert.equal(status, 500);
    assert.equal(body.code, 'INTERNAL');
    assert.equal(body.requestId, 'batch-1700000000000');
    assert.deepEqual(
      logged.map((e) => [e.level, e.requestId, e.logged]),
      [['error', header, 'batch-1700000000000']],
      'one line ties the request ID to the line logged where it happened',
    );
  });

  it('logs anything else under a new request ID and shows no internals', async () => {
    const { status, header, body, logged } = await answerTo(new Error('secret detail'));
    assert.equal(status, 500);
    assert.equal(body.code, 'INTERNAL');
    assert.equal(logged.length, 1);
    assert.equal(logged[0]!.requestId, body.requestId);
    assert.equal(header, body.requestId, 'the X-Request-Id header names the same ID');
    assert.doesNotMatch(JSON.stringify(body), /secret detail/);
  });

  it('keeps a well-formed X-Request-Id from the client or a proxy, and replaces one that is not', async () => {
    const kept = await answerTo(new Error('x'), { 'x-request-id': 'proxy-7f3a.1_B' });
    assert.equal(kept.header, 'proxy-7f3a.1_B');
    assert.equal(kept.body.requestId, 'proxy-7f3a.1_B');
    assert.equal(kept.logged[0]!.requestId, 'proxy-7f3a.1_B');
    for (const bad of ['a b', 'x'.repeat(65), '"quoted"']) {
      const replaced = await answerTo(new Error('x'), { 'x-request-id': bad });
      assert.notEqual(replaced.header, bad);
      assert.match(replaced.header ?? '', /^[0-9a-f]{8}-[0-9a-z]+$/);
    }
  });

  it('logs nothing for an expected error, and still names the request in a header', async () => {
    const { status, header, logged } = await answerTo(new VolactError('NOT_FOUND', { method: 'GET', path: '/x' }));
    assert.equal(status, 404);
    assert.match(header ?? '', /^[0-9a-f]{8}-[0-9a-z]+$/);
    assert.deepEqual(logged, []);
  });
});

describe('router', () => {
  it('reads a GET body to its end before answering, so the answer arrives whole; past 1 MiB it is BODY_TOO_LARGE', async () => {
    const { request } = await import('node:http');
    const { router } = await import('./http-server.js');
    const big = 'x'.repeat(80_000);
    const server = createServer(router({ 'GET /doc': (_req, res) => void res.end(big) }));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const get = (body: Buffer) =>
      new Promise<{ status: number; length: number }>((resolve, reject) => {
        const req = request(
          { port, host: '127.0.0.1', path: '/doc', method: 'GET', headers: { 'transfer-encoding': 'chunked' } },
          (res) => {
            let length = 0;
            res.on('data', (c: Buffer) => (length += c.length));
            res.on('end', () => resolve({ status: res.statusCode!, length }));
          },
        );
        req.on('error', reject);
        // the body in slices, as a slow client sends it
        for (let i = 0; i < body.length; i += 16_384) req.write(body.subarray(i, i + 16_384));
        req.end();
      });
    try {
      for (let i = 0; i < 5; i++)
        assert.deepEqual(await get(Buffer.alloc(100_000, 'a')), { status: 200, length: 80_000 });
      assert.equal((await get(Buffer.alloc(1_200_000, 'a'))).status, 413);
    } finally {
      server.close();
    }
  });
});
