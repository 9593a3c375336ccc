import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { adminEndpoint, endpointMayAnswer, listenAdmin } from './platform.js';

describe('platform layer: the admin endpoint', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-platform-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('puts the admin API on DIR/admin.sock on Linux and macOS', () => {
    for (const platform of ['linux', 'darwin', 'freebsd'] as const)
      assert.deepEqual(adminEndpoint('/var/lib/volact/host', platform), {
        path: '/var/lib/volact/host/admin.sock',
        pipe: false,
      });
  });

  it('puts it on a named pipe named after the state directory on Windows', () => {
    const a = adminEndpoint('C:\\ProgramData\\volact\\host', 'win32');
    assert.equal(a.pipe, true);
    assert.match(a.path, /^\\\\\.\\pipe\\volact-admin-[0-9a-f]{16}$/);
    // the same directory however it is typed, and another directory another pipe
    assert.equal(adminEndpoint('c:\\programdata\\VOLACT\\host\\', 'win32').path, a.path);
    assert.equal(adminEndpoint('C:/ProgramData/volact/host', 'win32').path, a.path);
    assert.notEqual(adminEndpoint('C:\\ProgramData\\volact\\hypervisor', 'win32').path, a.path);
    assert.equal(endpointMayAnswer(a), true, 'a pipe is not a file: only connecting tells');
  });

  it('listens on a Unix endpoint made 0600, replacing a stale socket file', async () => {
    const endpoint = adminEndpoint(dir, 'linux');
    assert.equal(endpointMayAnswer(endpoint), false);
    writeFileSync(endpoint.path, 'left by a killed host');
    const server = createServer((s) => s.end('ok'));
    await listenAdmin(server, endpoint);
    try {
      assert.ok(statSync(endpoint.path).isSocket());
      assert.equal(statSync(endpoint.path).mode & 0o777, 0o600);
      assert.equal(endpointMayAnswer(endpoint), true);
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  it('refuses to listen where it cannot, instead of hanging', async () => {
    const endpoint = { path: join(dir, 'no-such-dir', 'admin.sock'), pipe: false };
    await assert.rejects(listenAdmin(createServer(), endpoint), /listen (ENOENT|EACCES)/);
  });
});
