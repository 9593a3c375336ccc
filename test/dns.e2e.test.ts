import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestClockFile, tempDir, volact, type CliResult } from './harness/cli.js';
import { post, activationBody } from './harness/machines.js';
import { startNamed, type Named } from './harness/named.js';
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { createServer } from 'node:http';
import { parseTsigKeyFile, sendUpdate } from '@volact/host';
import { startService, type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const HOUR = 3_600_000;

/** A UDP relay in front of BIND that can lose the answers: the update arrives, its answer does not. */
async function lossyRelay(port: number) {
  const front = createSocket('udp4');
  const back = createSocket('udp4');
  let client: { address: string; port: number } | undefined;
  const relay = { dropAnswers: true, port: 0, close: () => (front.close(), back.close()) };
  front.on('message', (msg, from) => {
    client = from;
    back.send(msg, port, '127.0.0.1');
  });
  back.on('message', (msg) => {
    if (!relay.dropAnswers && client) front.send(msg, client.port, client.address);
  });
  await new Promise<void>((r) => front.bind(0, '127.0.0.1', r));
  await new Promise<void>((r) => back.bind(0, '127.0.0.1', r));
  relay.port = front.address().port;
  return relay;
}

/** DNS SRV publishing and discovery against a real BIND 9 started by the test. */
describe('DNS SRV publishing and discovery (BIND 9)', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-dns-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let named: Named;
  const hosts: Service[] = [];

  const keyFile = (name: string) => {
    const path = join(tmp.path, `${name}.key`);
    writeFileSync(path, named.keyFile(name), { mode: 0o600 });
    return path;
  };
  const srvSet = async (domain: string) => {
    try {
      return (await named.resolver().resolveSrv(`_volact._tcp.${domain}`))
        .map((r) => `${r.priority} ${r.weight} ${r.port} ${r.name}`)
        .sort();
    } catch {
      return [];
    }
  };
  /** Polls until `check` holds (publishing happens on the host's own timer). */
  const eventually = async (check: () => Promise<boolean>, what: string, ms = 10_000) => {
    const end = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > end) assert.fail(`timed out waiting for: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** An activated host that publishes itself; DNS options as given. */
  const host = async (name: string, dns: string[], group = 'server-2026') => {
    const dir = join(tmp.path, name);
    const svc = await startHost(dir, {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
      extra: ['--name', name, '--dns-server', named.server, ...dns],
    });
    hosts.push(svc);
    const hs = (...args: string[]) => volact(['slmgr', '--host', dir, '--json', ...args], clock.env());
    const dnsView = async () => (await volact(['host', 'dns', '--state', dir, '--json'], clock.env())).json;
    assert.equal((await hs('-ipk', await world.issueHostKey(group))).code, 0);
    await new Promise((r) => setTimeout(r, 1200)); // a publisher tick or more
    const before = await dnsView();
    assert.deepEqual(
      [before.activated, before.published, before.nextPublishAt],
      [false, [], null],
      'a host that is not activated does not advertise itself',
    );
    assert.equal((await hs('-ato')).code, 0);
    return { svc, dir, hs, dns: dnsView };
  };
  let machines = 0;
  /** A client machine with a server setup key and no pinned host; DNS through our BIND. */
  const machine = async (extraEnv: Record<string, string | undefined> = {}) => {
    const dir = join(tmp.path, `pc${++machines}`);
    const env = { ...clock.env(), VOLACT_DNS_SERVER: named.server, VOLACT_RESOLV_CONF: '/dev/null', ...extraEnv };
    const slmgr = (...args: string[]): Promise<CliResult> => volact(['slmgr', '--state', dir, '--json', ...args], env);
    assert.equal((await volact(['client', 'trust', world.rootPub, '--state', dir], env)).code, 0);
    assert.equal((await slmgr('-ipk', world.setupKeys['server-standard']!)).code, 0);
    return { dir, slmgr };
  };

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 23, 9));
    named = await startNamed(
      join(tmp.path, 'named'),
      [
        { name: 'example.test', keys: ['host1', 'host2', 'host3'] },
        { name: 'branch.test', keys: ['host1'] },
        { name: 'locked.test', keys: [] },
        { name: 'failover.test', keys: ['host1', 'host2', 'host3'] },
      ],
      ['host1', 'host2', 'host3'],
    );
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
  });

  after(async () => {
    for (const h of hosts) await h.stop();
    await authority?.stop();
    await named?.stop();
    tmp.cleanup();
  });

  it('a host publishes its SRV and A records; a client finds it with no -skms and remembers it', async () => {
    const h1 = await host('kms1', [
      '--dns-domain',
      'example.test',
      '--dns-address',
      '127.0.0.1',
      '--tsig-key',
      keyFile('host1'),
    ]);
    await eventually(async () => (await srvSet('example.test')).length === 1, 'the SRV record');
    assert.deepEqual(await srvSet('example.test'), [`0 0 ${h1.svc.port} kms1.example.test`]);
    assert.deepEqual(await named.resolver().resolve4('kms1.example.test'), ['127.0.0.1']);
    const status = await h1.dns();
    assert.equal(status.events.at(-1).event, 12294);

    const pc = await machine();
    const none = await pc.slmgr('-ato');
    assert.equal(none.json.error.code, 'NO_HOST_FOUND', 'no lookup domain yet');
    assert.equal((await pc.slmgr('-skms-domain', 'example.test')).code, 0);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.outcome, 'countInsufficient', ato.stdout);
    assert.equal(ato.json.host, `127.0.0.1:${h1.svc.port}`);
    const dlv = await pc.slmgr('-dlv');
    assert.deepEqual(
      [dlv.json.pinnedHost, dlv.json.discoveredHost, dlv.json.lookupDomain, dlv.json.hostCaching],
      [null, `127.0.0.1:${h1.svc.port}`, 'example.test', true],
    );

    // the search domains of the machine are used when no lookup domain is set
    const searching = await machine({ VOLACT_RESOLV_CONF: writeConf('search nowhere.test example.test\n') });
    const found = await searching.slmgr('-ato');
    assert.equal(found.json.host, `127.0.0.1:${h1.svc.port}`, found.stdout);
  });

  it('a client with a stored DNS server finds the host through it, without VOLACT_DNS_SERVER', async () => {
    const [h1] = hosts;
    const pc = await machine({ VOLACT_DNS_SERVER: undefined });
    assert.equal((await pc.slmgr('-skms-domain', 'example.test')).code, 0);
    const system = await pc.slmgr('-ato');
    assert.equal(system.json.error.code, 'NO_HOST_FOUND', "the system's resolver does not know example.test");
    const set = await volact(['client', 'dns-server', named.server, '--state', pc.dir, '--json'], clock.env());
    assert.deepEqual([set.code, set.json], [0, { dnsServer: named.server }]);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.host, `127.0.0.1:${h1!.port}`, ato.stdout);
    const dlv = await volact(['slmgr', '--state', pc.dir, '-dlv'], clock.env());
    assert.match(dlv.stdout, new RegExp(`^DNS server for SRV lookups: ${named.server.replace(/\./g, '\\.')}$`, 'm'));
    // a bad value is refused with a stable code and changes nothing
    for (const [args, code] of [
      [['ns1.example.test'], 'USAGE'],
      [['127.0.0.1:70000'], 'VALUE_OUT_OF_RANGE'],
      [[], 'USAGE'],
      [['127.0.0.1', '--clear'], 'USAGE'],
    ] as const) {
      const bad = await volact(['client', 'dns-server', ...args, '--state', pc.dir, '--json'], clock.env());
      assert.deepEqual([bad.code, bad.json?.error?.code], [2, code], args.join(' '));
    }
    assert.equal((await pc.slmgr('-dlv')).json.dnsServer, named.server);
    const cleared = await volact(['client', 'dns-server', '--clear', '--state', pc.dir], clock.env());
    assert.equal(cleared.code, 0);
    assert.deepEqual(
      [(await pc.slmgr('-dlv')).json.dnsServer, (await pc.slmgr('-dlv')).json.dnsServerFrom],
      [null, null],
    );
  });

  function writeConf(text: string): string {
    const path = join(tmp.path, `resolv-${machines}.conf`);
    writeFileSync(path, text);
    return path;
  }

  it('two hosts publish into one set; each later removes only its own record', async () => {
    const h2 = await host('kms2', [
      '--dns-domain',
      'example.test',
      '--dns-priority',
      '10',
      '--dns-address',
      '127.0.0.1',
      '--tsig-key',
      keyFile('host2'),
    ]);
    await eventually(async () => (await srvSet('example.test')).length === 2, 'two records in the set');
    const [kms1] = hosts;
    assert.deepEqual(
      await srvSet('example.test'),
      [`0 0 ${kms1!.port} kms1.example.test`, `10 0 ${h2.svc.port} kms2.example.test`].sort(),
    );
    const gone = await volact(['host', 'unpublish', '--state', h2.dir, '--json'], clock.env());
    assert.deepEqual(gone.json.removed, [{ domain: 'example.test', removed: true, confirmed: true, code: null }]);
    assert.deepEqual(
      await srvSet('example.test'),
      [`0 0 ${kms1!.port} kms1.example.test`],
      "kms1's record is untouched",
    );
    assert.equal((await h2.dns()).enabled, false, 'a decommissioned host does not publish itself again');
    assert.equal((await h2.hs('-sdns')).code, 0);
    await eventually(async () => (await srvSet('example.test')).length === 2, 'kms2 back after -sdns');
  });

  it('the client uses priority 0 first and fails over to priority 10 when that host stops', async () => {
    const pc = await machine();
    await pc.slmgr('-skms-domain', 'example.test');
    const [kms1, kms2] = hosts;
    const first = await pc.slmgr('-ato');
    assert.equal(first.json.host, `127.0.0.1:${kms1!.port}`);
    await kms1!.stop();
    const second = await pc.slmgr('-ato');
    assert.equal(second.json.host, `127.0.0.1:${kms2!.port}`, second.stdout);
    assert.equal(
      (await pc.slmgr('-dlv')).json.discoveredHost,
      `127.0.0.1:${kms2!.port}`,
      'the host that answered is cached',
    );
    // caching off: discovery every time (kms1 is still down, so kms2 again, via DNS)
    assert.equal((await pc.slmgr('-ckhc')).code, 0);
    assert.equal((await pc.slmgr('-ato')).json.host, `127.0.0.1:${kms2!.port}`);
    assert.equal((await pc.slmgr('-dlv')).json.discoveredHost, null);
    // every host down: the error lists each host tried and why
    await kms2!.stop();
    const all = await pc.slmgr('-ato');
    assert.equal(all.json.error.code, 'NO_HOST_FOUND');
    assert.match(all.json.error.message, new RegExp(`127\\.0\\.0\\.1:${kms1!.port} \\(HOST_UNREACHABLE`));
    assert.match(all.json.error.message, new RegExp(`127\\.0\\.0\\.1:${kms2!.port} \\(HOST_UNREACHABLE`));
    // a pinned host wins over DNS
    const pinned = await machine();
    await pinned.slmgr('-skms-domain', 'example.test');
    await pinned.slmgr('-skms', `127.0.0.1:${kms2!.port}`);
    assert.equal(
      (await pinned.slmgr('-ato')).json.error.code,
      'HOST_UNREACHABLE',
      'the pinned host is used even though DNS lists others',
    );
  });

  it('a wrong TSIG key or a zone the key may not change gives a 12293 event with the code and fix; the host keeps serving', async () => {
    const badKey = join(tmp.path, 'bad.key');
    writeFileSync(
      badKey,
      named.keyFile('host3').replace(/secret "[^"]+"/, `secret "${Buffer.alloc(32, 7).toString('base64')}"`),
    );
    const h = await host('kms-badkey', ['--dns-domain', 'example.test', '--tsig-key', badKey]);
    await eventually(
      async () => (await h.dns()).events.some((e: { event: number }) => e.event === 12293),
      'the refusal event',
    );
    const ev = (await h.dns()).events.find((e: { event: number }) => e.event === 12293);
    assert.deepEqual([ev.code, ev.rcode], ['DNS_TSIG_REJECTED', 'NOTAUTH']);
    assert.match(ev.message, /BADSIG/);
    assert.match(ev.fix, /--tsig-key/);
    assert.equal(
      (
        await post(
          h.svc.port,
          '/v1/activate',
          JSON.stringify(activationBody(world.setupKeys['server-standard']!, clock.t)),
        )
      ).status,
      200,
      'still serving',
    );
    assert.ok(!(await srvSet('example.test')).some((r) => r.includes('kms-badkey')));

    const locked = await host('kms-locked', ['--dns-domain', 'locked.test', '--tsig-key', keyFile('host3')]);
    await eventually(
      async () => (await locked.dns()).events.some((e: { event: number }) => e.event === 12293),
      'the refusal event',
    );
    const refused = (await locked.dns()).events.find((e: { event: number }) => e.event === 12293);
    assert.deepEqual([refused.code, refused.rcode], ['DNS_UPDATE_REFUSED', 'REFUSED']);
    assert.match(refused.fix, /update-policy/);
    // it retries with backoff: after a minute of (test) time it tries again, and fails again
    const count = (await locked.dns()).events.length;
    clock.advance(2 * 60_000);
    await eventually(async () => (await locked.dns()).events.length > count, 'a retry');

    // a key named.conf knows but the zone does not grant: REFUSED, signed
    const outsider = await host('kms-outsider', ['--dns-domain', 'example.test', '--tsig-key', keyFile('outsider')]);
    await eventually(
      async () => (await outsider.dns()).events.some((e: { event: number }) => e.event === 12293),
      'the refusal event',
    );

    // a refused update added nothing: nothing is shown as published, and unpublish exits 0 (issue 10)
    for (const [hh, domain, code] of [
      [h, 'example.test', 'DNS_TSIG_REJECTED'],
      [locked, 'locked.test', 'DNS_UPDATE_REFUSED'],
      [outsider, 'example.test', 'DNS_UPDATE_REFUSED'],
    ] as const) {
      // the clock moved 2 minutes, so every refused host retries: wait for an update in flight to
      // be answered (until then its records are rightly "sent, not confirmed")
      await eventually(async () => (await hh.dns()).unconfirmed.length === 0, `${hh.dir}: its retry answered`);
      const view = await hh.dns();
      assert.deepEqual(
        [view.published, view.unconfirmed],
        [[], []],
        `${hh.dir}: nothing published, nothing sent without an answer`,
      );
      assert.deepEqual([view.events.at(-1).outcome, view.events.at(-1).code], ['refused', code]);
      const human = await volact(['host', 'dns', '--state', hh.dir], clock.env());
      assert.match(human.stdout, /^Published: nothing \(the DNS server has confirmed no record\)$/m, human.stdout);
      assert.doesNotMatch(human.stdout, /^Published \(|^Sent, not confirmed/m, human.stdout);
      assert.match(human.stdout, /\(refused: nothing was changed\)/);
      const dlv = await volact(['slmgr', '--host', hh.dir, '-dlv'], clock.env());
      assert.doesNotMatch(dlv.stdout, /published in/, dlv.stdout);
      assert.match(
        dlv.stdout,
        new RegExp(
          `^DNS publishing: enabled \\(\\S+ in ${domain}; nothing published yet; last update failed: ${code} \\(see volact host dns\\)\\)$`,
          'm',
        ),
        dlv.stdout,
      );
      const gone = await volact(['host', 'unpublish', '--state', hh.dir], clock.env());
      assert.equal(gone.code, 0, gone.stdout + gone.stderr);
      assert.match(gone.stdout, /^Nothing was published\.$/m);
    }
    assert.ok(
      !(await srvSet('example.test')).some((r) => /kms-(badkey|outsider)/.test(r)),
      'and the zone has none of them',
    );
    await h.svc.stop();
    await locked.svc.stop();
    await outsider.svc.stop();
  });

  it('systemctl reload (SIGHUP) takes a rotated TSIG key and publishes at once; a damaged key is refused and the old one kept', async () => {
    const wrong = join(tmp.path, 'rotate-wrong.key');
    writeFileSync(
      wrong,
      named.keyFile('host2').replace(/secret "[^"]+"/, `secret "${Buffer.alloc(32, 9).toString('base64')}"`),
    );
    const h = await host('kms-rotate', ['--dns-domain', 'example.test', '--tsig-key', wrong]);
    await eventually(
      async () => (await h.dns()).events.some((e: { event: number }) => e.event === 12293),
      'the refusal with the old key',
    );
    writeFileSync(join(h.dir, 'dns.key'), 'not a key file');
    h.svc.child.kill('SIGHUP');
    await eventually(async () => /the previous key stays/.test(h.svc.output()), 'the damaged key logged');
    assert.equal(h.svc.child.exitCode, null, 'a bad reload does not stop the host');
    assert.ok(!(await srvSet('example.test')).some((r) => r.includes('kms-rotate')));

    writeFileSync(join(h.dir, 'dns.key'), named.keyFile('host2'));
    h.svc.child.kill('SIGHUP');
    // at once: the reload clears the backoff the refusals built up (no clock is advanced)
    await eventually(
      async () => (await srvSet('example.test')).includes(`0 0 ${h.svc.port} kms-rotate.example.test`),
      'published with the rotated key',
    );
    assert.equal((await volact(['host', 'unpublish', '--state', h.dir], clock.env())).code, 0);
    await h.svc.stop();
  });

  it('an update whose answer is lost is shown as sent, not confirmed, and unpublish still removes it', async () => {
    const relay = await lossyRelay(named.port);
    try {
      const h = await host('kms-lost', [
        '--dns-server',
        `127.0.0.1:${relay.port}`,
        '--dns-domain',
        'example.test',
        '--tsig-key',
        keyFile('host1'),
      ]);
      await eventually(
        async () => (await h.dns()).events.some((e: { event: number }) => e.event === 12293),
        'the timeout',
        15_000,
      );
      // the update reached BIND; only its answer was lost
      assert.ok((await srvSet('example.test')).includes(`0 0 ${h.svc.port} kms-lost.example.test`));
      const view = await h.dns();
      assert.deepEqual(view.published, []);
      assert.deepEqual(
        view.unconfirmed.map((u: { domain: string; records: { type: string }[] }) => [
          u.domain,
          u.records.map((r) => r.type),
        ]),
        [['example.test', ['SRV']]],
      );
      assert.deepEqual([view.events.at(-1).outcome, view.events.at(-1).code], ['unconfirmed', 'DNS_UPDATE_FAILED']);
      const human = (await volact(['host', 'dns', '--state', h.dir], clock.env())).stdout;
      assert.match(human, /^Published: nothing/m);
      assert.match(
        human,
        /^Sent, not confirmed .*:\n  example\.test at \S+: SRV _volact\._tcp\.example\.test$/m,
        human,
      );
      assert.match(human, /\(sent, not confirmed: the records may be in the zone\)/);
      const dlv = (await volact(['slmgr', '--host', h.dir, '-dlv'], clock.env())).stdout;
      assert.match(
        dlv,
        /^DNS publishing: enabled \(kms-lost\.example\.test in example\.test; nothing published yet; sent, not confirmed in example\.test; last update failed: DNS_UPDATE_FAILED/m,
        dlv,
      );

      // the removal's answer is lost too: never confirmed, so not a failure, and still remembered
      const lost = await volact(['host', 'unpublish', '--state', h.dir, '--json'], clock.env());
      assert.equal(lost.code, 0, lost.stdout + lost.stderr);
      assert.deepEqual(lost.json.removed, [
        { domain: 'example.test', removed: false, confirmed: false, code: 'DNS_UPDATE_FAILED' },
      ]);
      assert.equal((await h.dns()).unconfirmed.length, 1);
      // answers come through again: unpublish deletes what the lost update had added
      relay.dropAnswers = false;
      const gone = await volact(['host', 'unpublish', '--state', h.dir], clock.env());
      assert.equal(gone.code, 0, gone.stdout + gone.stderr);
      assert.match(gone.stdout, /^example\.test: removed \(they had been sent but never confirmed\)$/m);
      assert.ok(!(await srvSet('example.test')).some((r) => r.includes('kms-lost')));
      assert.deepEqual([(await h.dns()).published, (await h.dns()).unconfirmed], [[], []]);
      await h.svc.stop();
    } finally {
      relay.close();
    }
  });

  it('republishes every 24 hours (test clock), into extra domains too, and unpublish removes everything', async () => {
    const h = await host('kms3', [
      '--dns-domain',
      'example.test',
      '--dns-extra',
      'branch.test,5,10',
      '--dns-address',
      '127.0.0.1',
      '--tsig-key',
      keyFile('host1'),
    ]);
    await eventually(async () => (await srvSet('branch.test')).length === 1, 'the record in the extra domain');
    assert.deepEqual(await srvSet('branch.test'), [`5 10 ${h.svc.port} kms3.example.test`]);
    const published = (await h.dns()).events.filter((e: { event: number }) => e.event === 12294).length;
    // 23 hours: nothing; 24 hours: published again in both domains
    clock.advance(23 * HOUR);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await h.dns()).events.filter((e: { event: number }) => e.event === 12294).length, published);
    clock.advance(HOUR + 60_000);
    await eventually(
      async () => (await h.dns()).events.filter((e: { event: number }) => e.event === 12294).length === published + 2,
      'the 24-hour republication',
    );

    // a new port: the records are replaced at once, the old ones deleted
    const port = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    assert.equal((await h.hs('-sprt', String(port))).code, 0);
    await eventually(
      async () => (await srvSet('branch.test')).join() === `5 10 ${port} kms3.example.test`,
      'the record for the new port',
    );
    assert.ok((await srvSet('example.test')).includes(`0 0 ${port} kms3.example.test`));
    assert.ok(!(await srvSet('example.test')).some((r) => r.includes(`${h.svc.port} kms3`)), 'the old port is gone');

    const gone = await volact(['host', 'unpublish', '--state', h.dir, '--json'], clock.env());
    assert.deepEqual(gone.json.removed.map((r: { domain: string }) => r.domain).sort(), [
      'branch.test',
      'example.test',
    ]);
    assert.deepEqual(await srvSet('branch.test'), []);
    assert.ok(!(await srvSet('example.test')).some((r) => r.includes('kms3')));
    await assert.rejects(named.resolver().resolve4('kms3.example.test'));
    await h.svc.stop();
  });

  it('a restart without --name and --listen keeps the stored ones: same SRV target, same address', async () => {
    const h = await host('kms-keep', ['--dns-domain', 'example.test', '--tsig-key', keyFile('host2')]);
    await eventually(
      async () => (await srvSet('example.test')).includes(`0 0 ${h.svc.port} kms-keep.example.test`),
      'the first record',
    );
    await h.svc.stop();
    const again = await startService(['host', 'serve', '--state', h.dir, '--port', '0'], clock.env());
    hosts.push(again);
    // a new port (0 picks one), so the record is replaced, but under the same name
    await eventually(
      async () => (await srvSet('example.test')).includes(`0 0 ${again.port} kms-keep.example.test`),
      'the record for the new port',
    );
    assert.deepEqual(
      (await srvSet('example.test')).filter((r) => r.endsWith(`${h.svc.port} kms-keep.example.test`)),
      [],
      'the old port is gone',
    );
    assert.equal((await h.dns()).target, 'kms-keep.example.test');
    const dlv = await h.hs('-dlv');
    assert.deepEqual([dlv.json.hostName, dlv.json.listenAddress], ['kms-keep', '127.0.0.1']);
    // it listens on 127.0.0.1 only, as stored, not on every address
    const reach = (address: string) =>
      new Promise<boolean>((resolve) => {
        const sock = connect(again.port, address);
        sock.once('connect', () => (sock.destroy(), resolve(true)));
        sock.once('error', () => resolve(false));
      });
    assert.deepEqual([await reach('127.0.0.1'), await reach('127.0.0.2')], [true, false]);
    await again.stop();
  });

  it('refuses bad DNS options at host start with stable codes, storing none of them', async () => {
    const dir = join(tmp.path, 'bad-options');
    const md5 = join(tmp.path, 'md5.key');
    writeFileSync(md5, 'key "h" {\n  algorithm hmac-md5;\n  secret "c2VjcmV0";\n};\n');
    const serve = (...extra: string[]) =>
      volact(
        ['host', 'serve', '--state', dir, '--root', world.rootPub, '--port', '0', '--listen', '127.0.0.1', ...extra],
        clock.env(),
      );
    for (const [extra, exit, pattern] of [
      [['--dns-priority', '70000'], 2, /VALUE_OUT_OF_RANGE/],
      [['--dns-extra', 'branch.test,high,1'], 2, /VALUE_OUT_OF_RANGE/],
      [['--dns-domain', 'not a domain'], 2, /is not a DNS name/],
      [['--dns-address', 'nowhere'], 2, /not an IP address/],
      [['--dns-server', 'ns1.example.test:70000'], 2, /VALUE_OUT_OF_RANGE/],
      [['--dns-server', 'two words'], 2, /USAGE/],
      [['--tsig-key', join(tmp.path, 'missing.key')], 2, /cannot read/],
      [['--dns-domain', 'example.test', '--tsig-key', md5], 2, /hmac-md5 is not supported/],
      [['--name', 'k'.repeat(129), '--dns-domain', 'example.test'], 2, /USAGE.*--name must be 1 to 128 characters/],
      [['--name', 'kms\u0007', '--dns-domain', 'example.test'], 2, /USAGE.*--name must be/],
      [['--listen', 'nowhere', '--dns-domain', 'example.test'], 2, /USAGE.*--listen nowhere is not an IP address/],
      [['--tsig-key', keyFile('host1'), '--dns-domain', 'bad domain'], 2, /is not a DNS name/],
    ] as const) {
      const r = await serve(...extra);
      assert.equal(r.code, exit, `${extra.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, pattern, extra.join(' '));
    }
    const { existsSync } = await import('node:fs');
    assert.ok(!existsSync(join(dir, 'dns.key')), 'a valid key with a bad domain was not stored either');
    const started = await startService(['host', 'serve', '--state', dir, '--port', '0'], clock.env());
    try {
      assert.equal(
        (await volact(['host', 'dns', '--state', dir, '--json'], clock.env())).json.domain,
        null,
        'no --dns-domain was stored',
      );
      const dlv = (await volact(['slmgr', '--host', dir, '--json', '-dlv'], clock.env())).json;
      assert.deepEqual([dlv.hostName, dlv.listenAddress], [hostname(), '::'], 'nor a --name or --listen');
    } finally {
      await started.stop();
    }
  });

  it('moves past a host that answers with an unsigned error or refuses the edition, to one that can activate it', async () => {
    // priority 0: a fake "host" that only ever says RATE_LIMITED (unsigned), and a real host
    // whose key covers client editions only; priority 10: a real host for server editions
    const fake = createServer((_req, res) => {
      res.writeHead(429, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ code: 'RATE_LIMITED', message: 'too many', fix: 'wait', params: { what: 'x', limit: 1 } }),
      );
    });
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
    const fakePort = (fake.address() as { port: number }).port;
    try {
      const key = parseTsigKeyFile(named.keyFile('host3'));
      const added = await sendUpdate(
        { host: '127.0.0.1', port: named.port },
        'failover.test',
        [
          {
            op: 'add',
            record: {
              type: 'SRV',
              rr: {
                name: '_volact._tcp.failover.test',
                priority: 0,
                weight: 0,
                port: fakePort,
                target: 'fake.failover.test',
                ttl: 60,
              },
            },
          },
          {
            op: 'add',
            record: { type: 'A', rr: { name: 'fake.failover.test', address: '127.0.0.1', family: 4, ttl: 60 } },
          },
        ],
        key,
        Math.floor(Date.now() / 1000),
      );
      assert.equal(added.rcode, 'NOERROR');
      const desk = await host(
        'kms-desk',
        ['--dns-domain', 'failover.test', '--dns-address', '127.0.0.1', '--tsig-key', keyFile('host1')],
        'desk-2026',
      );
      const server = await host('kms-server', [
        '--dns-domain',
        'failover.test',
        '--dns-priority',
        '10',
        '--dns-address',
        '127.0.0.1',
        '--tsig-key',
        keyFile('host2'),
      ]);
      await eventually(async () => (await srvSet('failover.test')).length === 3, 'three records in the set');
      const pc = await machine();
      await pc.slmgr('-skms-domain', 'failover.test');
      const r = await pc.slmgr('-ato');
      assert.equal(r.json.host, `127.0.0.1:${server.svc.port}`, r.stdout);
      assert.equal(
        (await pc.slmgr('-dlv')).json.discoveredHost,
        `127.0.0.1:${server.svc.port}`,
        'only a host for this edition is remembered',
      );
      await desk.svc.stop();
      await server.svc.stop();
    } finally {
      fake.close();
    }
  });

  it('a client with no SRV record and no pinned host gets "no host found" with the fix', async () => {
    const pc = await machine();
    await pc.slmgr('-skms-domain', 'branch.test');
    const r = await pc.slmgr('-ato');
    assert.equal(r.code, 6);
    assert.equal(r.json.error.code, 'NO_HOST_FOUND');
    assert.match(r.json.error.message, /_volact\._tcp\.branch\.test: no such records/);
    assert.match(r.json.error.fix, /-skms HOST\[:PORT\]/);
    const bad = await pc.slmgr('-skms-domain', 'not a domain!');
    assert.deepEqual([bad.code, bad.json.error.code], [2, 'USAGE']);
  });
});
