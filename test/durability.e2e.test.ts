import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { activationBody, admin, post } from './harness/machines.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

/** A host restart and a kill -9 under load keep every activation that was answered. */
describe('host durability', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-dur-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  const hostDir = () => join(tmp.path, 'host');
  const start = () =>
    startHost(hostDir(), { root: world.rootPub, authority: `http://127.0.0.1:${authority.port}`, env: clock.env() });

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 2, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    host = await start();
    const key = await world.issueHostKey('server-2026');
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ipk', key])).code, 0);
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ato'], clock.env())).code, 0);
  });

  after(async () => {
    await host?.kill9();
    await authority?.stop();
    tmp.cleanup();
  });

  async function storedMachines(): Promise<Set<string>> {
    const r = await admin(hostDir(), 'GET', '/machines?limit=100000');
    return new Set((r.body as { machineId: string }[]).map((m) => m.machineId));
  }

  it('keeps every answered activation across a restart and a kill -9 under load', async () => {
    const answered = new Set<string>();
    let failed = 0;
    const fire = async (n: number, concurrency: number, stopAfter?: number) => {
      let i = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (i < n) {
            i++;
            const body = activationBody(world.setupKeys['desk-pro']!, clock.t);
            try {
              const r = await post(host.port, '/v1/activate', JSON.stringify(body));
              if (r.status === 200) answered.add(body.machineId as string);
              if (stopAfter !== undefined && answered.size >= stopAfter) {
                await host.kill9();
              }
            } catch {
              failed++; // connections cut by the kill
            }
          }
        }),
      );
    };

    await fire(200, 16);
    assert.equal(answered.size, 200);
    const before = (await admin(hostDir(), 'GET', '/status')).body;
    await host.stop();
    host = await start();
    const afterRestart = (await admin(hostDir(), 'GET', '/status')).body;
    assert.equal(afterRestart.currentCount, before.currentCount);
    assert.equal(afterRestart.currentCount, 200);
    assert.equal(afterRestart.requests.total, before.requests.total);

    // Now kill -9 the host while 32 requests are in flight.
    await fire(3000, 32, 700);
    assert.ok(failed > 0, 'the kill cut requests in flight');
    host = await start();
    const stored = await storedMachines();
    const lost = [...answered].filter((id) => !stored.has(id));
    assert.deepEqual(lost, [], `${lost.length} answered activations were lost`);
    const status = (await admin(hostDir(), 'GET', '/status')).body;
    assert.equal(status.currentCount, stored.size, 'the count agrees with the stored machines after the crash');
    assert.ok(stored.size >= answered.size);

    // It still serves after the crash.
    const r = await post(
      host.port,
      '/v1/activate',
      JSON.stringify(activationBody(world.setupKeys['desk-pro']!, clock.t)),
    );
    assert.equal(r.status, 200);
  });
});
