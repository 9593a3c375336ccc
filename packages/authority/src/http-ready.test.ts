import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { memoryLog } from '@volact/io';
import type { Authority } from './authority.js';
import { authorityServer } from './http.js';

describe('GET /v1/ready on the authority', () => {
  it("keeps the database driver's words in the log: the anonymous answer names only the request", async () => {
    const secretish = 'connect ECONNREFUSED 10.9.8.7:5432 (user "volact")';
    const failing = {
      ready: async () => {
        throw new Error(secretish);
      },
    } as unknown as Authority;
    const log = memoryLog();
    const server = authorityServer(failing, undefined as never, undefined, undefined, undefined, undefined, log);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/v1/ready`);
      const body = (await res.json()) as { code: string; message: string; params: { reason: string } };
      assert.equal(res.status, 503);
      assert.equal(body.code, 'NOT_READY');
      assert.doesNotMatch(JSON.stringify(body), /10\.9\.8\.7|ECONNREFUSED|volact"/);
      const id = res.headers.get('x-request-id');
      assert.ok(id);
      assert.match(body.params.reason, new RegExp(`database does not answer .*request ${id}`));
      const line = log.entries.find((e) => e.msg === 'not ready');
      assert.ok(line, 'the error is logged');
      assert.equal((line as { requestId?: string }).requestId, id);
      assert.equal((line as { error?: string }).error, secretish);
    } finally {
      server.close();
    }
  });
});
