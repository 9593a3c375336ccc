import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { tempDir, volact } from './harness/cli.js';
import { startService, type Service } from './harness/processes.js';
import { startHost } from './harness/world.js';

/**
 * Liveness and readiness (issue 14): /v1/health answers while the process runs; /v1/ready only
 * when the role can do its job, else 503 NOT_READY with the reason, and it follows the role's
 * state without a restart.
 */
describe('readiness of the authority and of a host', () => {
  const base = tempDir('volact-ready-');
  const services: Service[] = [];
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    base.cleanup();
  });
  const get = async (port: number, path: string) => {
    const r = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: r.status, body: (await r.json()) as Record<string, any> };
  };
  const must = async (args: string[]) => {
    const r = await volact(args);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r;
  };

  test('an authority without a catalog is alive but not ready, and ready once one is imported', async () => {
    const dir = join(base.path, 'authority');
    await must(['authority', 'init', '--dir', dir]);
    const authority = await startService(['authority', 'serve', '--dir', dir, '--port', '0']);
    services.push(authority);
    assert.deepEqual(await get(authority.port, '/v1/health'), { status: 200, body: { ok: true } });
    const before = await get(authority.port, '/v1/ready');
    assert.equal(before.status, 503);
    assert.equal(before.body.code, 'NOT_READY');
    assert.match(before.body.message, /no catalog imported/);
    await must(['authority', 'import-catalog', '--dir', dir]);
    assert.deepEqual(await get(authority.port, '/v1/ready'), { status: 200, body: { ready: true } });

    const key = (await must(['authority', 'issue-host-key', '--dir', dir, '--group', 'server-2026', '--json'])).json
      .key as string;
    const hostDir = join(base.path, 'host');
    const host = await startHost(hostDir, {
      root: join(dir, 'root.pub'),
      authority: `http://127.0.0.1:${authority.port}`,
    });
    services.push(host);
    assert.equal((await get(host.port, '/v1/health')).status, 200);
    const notYet = await get(host.port, '/v1/ready');
    assert.equal(notYet.status, 503);
    assert.equal(notYet.body.code, 'NOT_READY');
    assert.match(notYet.body.message, /not activated/);
    await must(['slmgr', '--host', hostDir, '-ipk', key]);
    await must(['slmgr', '--host', hostDir, '-ato']);
    assert.deepEqual(await get(host.port, '/v1/ready'), { status: 200, body: { ready: true } });
  });
});
