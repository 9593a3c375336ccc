import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { makeMachine, pool } from './harness/machines.js';
import { startService, type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const HOUR = 3_600_000;

/**
 * The guide's KMS story end to end, with real authority and host processes on loopback,
 * driven through the CLI: thresholds, retries, product groups and host key limits.
 */
describe('volume activation end to end', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-e2e-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let url: string;
  const services: Service[] = [];

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 1, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    services.push(authority);
    url = `http://127.0.0.1:${authority.port}`;
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    tmp.cleanup();
  });

  async function activatedHost(name: string, group: string): Promise<Service> {
    const dir = join(tmp.path, name);
    const host = await startHost(dir, { root: world.rootPub, authority: url, env: clock.env() });
    services.push(host);
    const key = await world.issueHostKey(group);
    const ipk = await volact(['slmgr', '--host', dir, '-ipk', key], clock.env());
    assert.equal(ipk.code, 0, ipk.stderr);
    const ato = await volact(['slmgr', '--host', dir, '-ato', '--json'], clock.env());
    assert.equal(ato.code, 0, ato.stderr + ato.stdout);
    assert.equal(ato.json.activated[0].group, group);
    return host;
  }

  let deskHostPort = 0;

  it('tells 24 client machines the count is insufficient, activates the 25th, and the others at their next retry', async () => {
    const host = await activatedHost('desk-host', 'desk-2026');
    const target = `127.0.0.1:${host.port}`;
    deskHostPort = host.port;
    const machines = await pool(
      Array.from({ length: 25 }, (_, i) => i),
      4,
      (i) =>
        makeMachine(tmp.path, `desk-${i}`, {
          root: world.rootPub,
          key: world.setupKeys['desk-pro']!,
          host: target,
          env: clock.env(),
        }),
    );
    for (let i = 0; i < 24; i++) {
      const r = await machines[i]!.run(['-ato']);
      assert.equal(r.code, 4, `machine ${i}: ${r.stdout}${r.stderr}`);
      assert.equal(r.json.code, 'COUNT_INSUFFICIENT');
      assert.equal(r.json.count, i + 1);
      assert.equal(r.json.required, 25);
      assert.equal(r.json.message, `the host has seen ${i + 1} of the 25 machines it needs`);
    }
    const dli = await machines[3]!.run(['-dli']);
    assert.equal(dli.json.licenseState, 'initialGrace');
    assert.deepEqual(
      dli.json.edition,
      { number: 101, code: 'desk-pro', name: 'Contoso Desk 2026 Pro' },
      'named from the certificate of the count-insufficient answer',
    );

    const last = await machines[24]!.run(['-ato']);
    assert.equal(last.code, 0, last.stdout + last.stderr);
    assert.equal(last.json.outcome, 'activated');
    assert.equal(last.json.count, 25);

    // The other 24 run the agent, which waits for the retry interval (2 hours) before asking again.
    const agents: Service[] = [];
    for (const m of machines.slice(0, 24)) {
      agents.push(await startService(['agent', '--state', m.dir], clock.env(), /"agent":"started"()/));
    }
    clock.advance(2 * HOUR + 60_000);
    const deadline = Date.now() + 120_000;
    let licensed = 0;
    let retries = 0;
    while (Date.now() < deadline) {
      const states = await pool(machines.slice(0, 24), 4, (m) => m.run(['-dli']));
      licensed = states.filter((s) => s.json?.licenseState === 'licensed').length;
      if (licensed === 24) break;
      await new Promise((r) => setTimeout(r, 1000));
      if (Date.now() > deadline - 60_000 && retries === 0) {
        // an attempt lost to a loaded machine is retried at the next retry interval, as on Windows
        retries++;
        clock.advance(2 * HOUR);
      }
    }
    let why = '';
    if (licensed !== 24) {
      const states = await pool(machines.slice(0, 24), 4, (m) => m.run(['-dlv']));
      states.forEach((st, i) => {
        if (st.json?.licenseState !== 'licensed')
          why += `\nmachine ${i}: ${st.stdout}${st.stderr}\nagent: ${agents[i]!.output()}`;
      });
    }
    await Promise.all(agents.map((a) => a.stop()));
    assert.equal(licensed, 24, why);

    const dlv = await machines[0]!.run(['-dlv']);
    assert.equal(dlv.json.licenseState, 'licensed');
    assert.equal(dlv.json.activatedBy.hostName, 'test-host');
    assert.match(dlv.json.activatedBy.hostId, /^H/);
    assert.equal(dlv.json.renewalMinutes, 7 * 24 * 60);
    assert.equal(dlv.json.retryMinutes, 120);
    assert.equal(Date.parse(dlv.json.validUntil) - Date.parse(dlv.json.activatedBy.at), 180 * 24 * HOUR);

    const status = await volact(['slmgr', '--host', join(tmp.path, 'desk-host'), '-dlv', '--json']);
    assert.equal(status.json.currentCount, 25);
    assert.equal(status.json.requests.byOutcome.countInsufficient, 24);
    assert.equal(status.json.requests.byOutcome.activated, 25);
  });

  it('activates a server edition once the count reaches 5, and a client-group host refuses server editions', async () => {
    const host = await activatedHost('server-host', 'server-2026');
    const target = `127.0.0.1:${host.port}`;
    const servers = await pool(
      Array.from({ length: 5 }, (_, i) => i),
      4,
      (i) =>
        makeMachine(tmp.path, `srv-${i}`, {
          root: world.rootPub,
          key: world.setupKeys['server-datacenter']!,
          host: target,
          env: clock.env(),
        }),
    );
    for (let i = 0; i < 4; i++) {
      const r = await servers[i]!.run(['-ato']);
      assert.equal(r.json.code, 'COUNT_INSUFFICIENT');
      assert.deepEqual([r.json.count, r.json.required], [i + 1, 5]);
    }
    const fifth = await servers[4]!.run(['-ato']);
    assert.equal(fifth.code, 0, fifth.stdout);
    assert.equal(fifth.json.outcome, 'activated');

    const deskHost = `127.0.0.1:${deskHostPort}`;
    const wrong = await makeMachine(tmp.path, 'srv-on-desk', {
      root: world.rootPub,
      key: world.setupKeys['server-standard']!,
      host: deskHost,
      env: clock.env(),
    });
    const refused = await wrong.run(['-ato']);
    assert.equal(refused.code, 5);
    assert.equal(refused.json.code, 'EDITION_NOT_COVERED');
    assert.match(refused.json.message, /cannot activate edition 201/);
  });

  it('gives the 7th host on one host key the key-limit error, and limits reactivations to 10 in all', async () => {
    const key = await world.issueHostKey('desk-2026');
    const dirs = Array.from({ length: 7 }, (_, i) => join(tmp.path, `limit-host-${i}`));
    const hosts = await pool(dirs, 3, (dir) =>
      startHost(dir, { root: world.rootPub, authority: url, env: clock.env() }),
    );
    services.push(...hosts);
    const results = [];
    for (const dir of dirs) {
      await volact(['slmgr', '--host', dir, '-ipk', key]);
      results.push(await volact(['slmgr', '--host', dir, '-ato', '--json'], clock.env()));
    }
    assert.deepEqual(
      results.slice(0, 6).map((r) => r.code),
      [0, 0, 0, 0, 0, 0],
    );
    assert.equal(results[5]!.json.activated[0].hostsUsed, 6);
    assert.equal(results[6]!.code, 8);
    assert.equal(results[6]!.json.error.code, 'KEY_LIMIT_HOSTS');
    assert.equal(results[6]!.json.error.message, 'this host key has already activated 6 of its 6 hosts');

    // The same host reactivating uses one of the 10 activations and no new host slot.
    const again = [];
    for (let i = 0; i < 5; i++) again.push(await volact(['slmgr', '--host', dirs[0]!, '-ato', '--json'], clock.env()));
    assert.deepEqual(
      again.slice(0, 4).map((r) => r.code),
      [0, 0, 0, 0],
    );
    assert.equal(again[3]!.json.activated[0].activationsUsed, 10);
    assert.equal(again[3]!.json.activated[0].hostsUsed, 6);
    assert.equal(again[4]!.code, 8);
    assert.equal(again[4]!.json.error.code, 'KEY_LIMIT_ACTIVATIONS');

    const listed = await volact(['authority', 'host-keys', '--dir', world.dir, '--json']);
    const row = listed.json.find((k: { key: string }) => key.endsWith(k.key.slice(-5)));
    assert.deepEqual(
      [row.hostsUsed, row.hostsLimit, row.activationsUsed, row.activationsLimit],
      [6, 6, 10, 10],
      'numbers, as -ato --json gives them',
    );
    assert.ok(!JSON.stringify(listed.json).includes(key), 'listings never show a whole host key');
  });
});
