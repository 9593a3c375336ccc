import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const DAY = 86_400_000;

/** The niceness of every thread of a process (field 19 of /proc/PID/task/TID/stat). */
function threadNiceness(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
  });
}

/** The slmgr options a client operator uses day to day, through the CLI with VOLACT_STATE_DIR. */
describe('slmgr on a client and on a host', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-slmgr-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  const hostDir = () => join(tmp.path, 'host');
  const env = () => ({ ...clock.env(), VOLACT_STATE_DIR: join(tmp.path, 'pc') });
  const slmgr = (...args: string[]) => volact(['slmgr', '--json', ...args], env());

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 4, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
    assert.equal(
      (await volact(['slmgr', '--host', hostDir(), '-ipk', await world.issueHostKey('server-2026')])).code,
      0,
    );
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ato'], clock.env())).code, 0);
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('runs a machine from VOLACT_STATE_DIR: -ipk, -skms, -ato, -xpr, -dli, -ckms, -cpky, -upk', async () => {
    assert.equal((await volact(['client', 'trust', world.rootPub], env())).code, 0);
    const otherRoot = await makeAuthority(join(tmp.path, 'other'), clock.env());
    const swap = await volact(['client', 'trust', otherRoot.rootPub, '--json'], env());
    assert.equal(swap.code, 7, 'a pinned root is not replaced silently');
    assert.equal(swap.json.error.code, 'ROOT_MISMATCH');
    assert.equal((await volact(['client', 'trust', otherRoot.rootPub, '--replace'], env())).code, 0);
    assert.equal((await volact(['client', 'trust', world.rootPub, '--replace'], env())).code, 0);
    assert.equal((await slmgr('-ipk', world.setupKeys['server-standard']!)).code, 0);
    const unlicensed = await slmgr('-xpr');
    assert.equal(unlicensed.json.licenseState, 'initialGrace');
    assert.equal(Date.parse(unlicensed.json.endsAt), clock.t + 30 * DAY);

    assert.equal((await slmgr('-skms', `127.0.0.1:${host.port}`)).code, 0);
    for (let i = 0; i < 4; i++) {
      // four other servers ask first, so this one reaches the server threshold of 5
      const other = join(tmp.path, `srv${i}`);
      await volact(['client', 'trust', world.rootPub, '--state', other]);
      await volact(['slmgr', '--state', other, '-ipk', world.setupKeys['server-standard']!]);
      await volact(['slmgr', '--state', other, '-skms', `127.0.0.1:${host.port}`]);
      await volact(['slmgr', '--state', other, '-ato'], clock.env());
    }
    const ato = await slmgr('-ato');
    assert.equal(ato.code, 0, ato.stdout);
    const xpr = await slmgr('-xpr');
    assert.equal(xpr.json.licenseState, 'licensed');
    assert.equal(Date.parse(xpr.json.endsAt), clock.t + 180 * DAY);

    const cpky = await slmgr('-cpky');
    assert.equal(cpky.json.cleared, false, 'a setup key is public and kept for renewals');
    assert.equal((await slmgr('-ckms')).code, 0);
    // no pinned host and no lookup domain (an empty resolv.conf): nothing to discover
    const noHost = await volact(['slmgr', '--json', '-ato'], { ...env(), VOLACT_RESOLV_CONF: '/dev/null' });
    assert.equal(noHost.code, 6);
    assert.equal(noHost.json.error.code, 'NO_HOST_FOUND');
    assert.match(noHost.json.error.message, /no lookup domain/);
    assert.match(noHost.json.error.fix, /-skms HOST/);
    assert.equal((await slmgr('-dli')).json.licenseState, 'licensed', 'the license stays without a pinned host');

    const events = await volact(['client', 'events', '--json'], env());
    assert.deepEqual(
      events.json.filter((e: { event: unknown }) => e.event === 12289).map((e: { outcome: string }) => e.outcome),
      ['grant'],
    );
    assert.equal((await slmgr('-upk')).code, 0);
    const dli = await slmgr('-dli');
    assert.equal(dli.json.licenseState, 'unlicensed');
    assert.equal(dli.json.partialKey, null);
  });

  it('keeps host settings across a restart and lists events as JSON lines', async () => {
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-sai', '45'])).code, 0);
    const port = host.port;
    await host.stop();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
    const status = await volact(['slmgr', '--host', hostDir(), '-dlv', '--json']);
    assert.equal(status.json.retryMinutes, 45);
    assert.equal(status.json.currentCount, 5);
    assert.ok(status.json.activated);
    assert.notEqual(host.port, 0);
    const lines = (await volact(['host', 'events', '--state', hostDir(), '--jsonl'])).stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 5);
    assert.ok(lines.every((e) => e.event === 12290 && e.vm === false && typeof e.machineId === 'string'));
    assert.deepEqual(
      lines.map((e) => e.outcome),
      ['countInsufficient', 'countInsufficient', 'countInsufficient', 'countInsufficient', 'activated'],
    );
    assert.ok(port > 0);
  });
  it('-spri lowers the running host to niceness 10 at once and after a restart; -cpri brings it back to 0', async () => {
    const hs = (...args: string[]) => volact(['slmgr', '--host', hostDir(), ...args]);
    assert.equal(getPriority(host.child.pid!), 0);
    const low = await hs('-spri');
    assert.equal(low.code, 0, low.stderr);
    assert.match(low.stdout, /priority set to Low/);
    assert.equal(getPriority(host.child.pid!), 10);
    assert.ok(
      threadNiceness(host.child.pid!).every((n) => n === 10),
      `every thread, the checkpoint worker's too: ${threadNiceness(host.child.pid!)}`,
    );
    assert.match((await hs('-dlv')).stdout, /Host priority: Low/);
    assert.equal((await hs('-spri', 'now')).code, 2, 'the option takes no value');

    await host.stop();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
    assert.equal(getPriority(host.child.pid!), 10, 'the stored setting applies at start');
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-dli', '--json'])).json.priority, 'low');

    assert.equal((await hs('-cpri')).code, 0);
    assert.equal(getPriority(host.child.pid!), 0);
    assert.ok(threadNiceness(host.child.pid!).every((n) => n === 0));
    assert.match((await hs('-dli')).stdout, /Host priority: Normal/);
  });
});
