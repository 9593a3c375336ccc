import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { VolactError } from '@volact/protocol';
import { sendError } from './http-server.js';

/** What a client reads when a handler fails with `err`, and what the server logged. */
async function answerTo(err: unknown): Promise<{ status: number; body: Record<string, unknown>; logged: string[] }> {
  const logged: string[] = [];
  const server = createServer((_req, res) => sendError(res, err, (l) => logged.push(l)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, logged };
  } finally {
    server.close();
  }
}

describe('sendError', () => {
  it('answers an INTERNAL already logged elsewhere with the request ID it was logged under', async () => {
    const { status, body, logged } = await answerTo(new VolactError('INTERNAL', { requestId: 'batch-1700000000000' }));
    assert.equal(status, 500);
    assert.equal(body.code, 'INTERNAL');
    assert.equal(body.requestId, 'batch-1700000000000');
    assert.deepEqual(logged, [], 'not logged a second time');
  });

  it('logs anything else under a new request ID and shows no internals', async () => {
    const { status, body, logged } = await answerTo(new Error('secret detail'));
    assert.equal(status, 500);
    assert.equal(body.code, 'INTERNAL');
    assert.equal(logged.length, 1);
    assert.equal(JSON.parse(logged[0]!).requestId, body.requestId);
    assert.doesNotMatch(JSON.stringify(body), /secret detail/);
  });
});
