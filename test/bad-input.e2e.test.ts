import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:net';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { activationBody, admin, makeMachine, post } from './harness/machines.js';
import { freePort } from './harness/ports.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const HOUR = 3_600_000;

/**
 * Hostile and malformed input against the host, the authority and the CLI: a 4xx or a
 * non-zero exit with a stable code, nothing written, and the next valid request succeeds.
 */
describe('bad input, refusals and host settings', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-bad-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let otherWorld: AuthorityWorld;
  const hostDir = () => join(tmp.path, 'host');

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 3, 9));
    world = await makeAuthority(tmp.path, clock.env());
    otherWorld = await makeAuthority(join(tmp.path, 'other'), clock.env());
    authority = await world.serve();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
      extra: ['--serve-networks', '127.0.0.1/32,::1/128'],
    });
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  const valid = () => JSON.stringify(activationBody(world.setupKeys['desk-pro']!, clock.t));

  it('refuses every request while the host is not activated', async () => {
    const r = await post(host.port, '/v1/activate', valid());
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'HOST_NOT_ACTIVATED');
    assert.match(r.body.fix, /-ipk HOST-KEY/);
    const m = await makeMachine(tmp.path, 'early', {
      root: world.rootPub,
      key: world.setupKeys['desk-pro']!,
      host: `127.0.0.1:${host.port}`,
      env: clock.env(),
    });
    const ato = await m.run(['-ato']);
    assert.equal(ato.code, 5);
    assert.equal(ato.json.error.code, 'HOST_NOT_ACTIVATED');
    const key = await world.issueHostKey('desk-2026');
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ipk', key])).code, 0);
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ato'], clock.env())).code, 0);
    assert.equal((await post(host.port, '/v1/activate', valid())).status, 200);
  });

  it('answers malformed, oversized, wrong-typed and hostile bodies with 4xx codes and writes nothing', async () => {
    const rowsBefore = (await admin(hostDir(), 'GET', '/rows')).body;
    const base = activationBody(world.setupKeys['desk-pro']!, clock.t);
    const cases: [string, string | Buffer, number, string][] = [
      ['malformed JSON', '{"v":1,', 400, 'BAD_JSON'],
      ['empty body', '', 400, 'BAD_JSON'],
      ['an array', '[1,2]', 400, 'BAD_REQUEST'],
      ['null', 'null', 400, 'BAD_REQUEST'],
      ['a string', '"hello"', 400, 'BAD_REQUEST'],
      ['wrong type', JSON.stringify({ ...base, machineId: 5 }), 400, 'BAD_REQUEST'],
      ['wrong version', JSON.stringify({ ...base, v: 2 }), 400, 'BAD_REQUEST'],
      ['unknown field', JSON.stringify({ ...base, admin: true }), 400, 'BAD_REQUEST'],
      ['prototype pollution', `{"__proto__":{"polluted":1},${JSON.stringify(base).slice(1)}`, 400, 'BAD_REQUEST'],
      ['missing field', JSON.stringify({ ...base, nonce: undefined }), 400, 'BAD_REQUEST'],
      ['negative time', JSON.stringify({ ...base, clientTime: -1 }), 400, 'BAD_REQUEST'],
      ['huge number', JSON.stringify({ ...base, clientTime: 1e300 }), 400, 'BAD_REQUEST'],
      ['bad license state', JSON.stringify({ ...base, licenseState: 'pirated' }), 400, 'BAD_REQUEST'],
      ['control characters in the machine ID', JSON.stringify({ ...base, machineId: 'a\u0000b' }), 400, 'BAD_REQUEST'],
      ['oversized body', JSON.stringify({ ...base, machineName: 'x'.repeat(10_000) }), 413, 'BODY_TOO_LARGE'],
      ['one megabyte', Buffer.alloc(1_000_000, 0x20), 413, 'BODY_TOO_LARGE'],
      [
        'a key typo',
        JSON.stringify({ ...base, setupKey: swapNeighbours(world.setupKeys['desk-pro']!) }),
        400,
        'KEY_TYPO',
      ],
      [
        'a look-alike character',
        JSON.stringify({ ...base, setupKey: 'O' + world.setupKeys['desk-pro']!.slice(1) }),
        400,
        'KEY_BAD_CHARACTER',
      ],
      [
        'a short key',
        JSON.stringify({ ...base, setupKey: world.setupKeys['desk-pro']!.slice(0, 20) }),
        400,
        'KEY_MALFORMED',
      ],
      [
        "another publisher's setup key",
        JSON.stringify({ ...base, setupKey: otherWorld.setupKeys['desk-pro']! }),
        404,
        'KEY_UNKNOWN',
      ],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await post(host.port, '/v1/activate', body);
      assert.equal(r.status, status, `${name}: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, code, name);
      assert.ok(r.body.message && r.body.fix, `${name} has a message and a fix`);
    }
    const notFound = await post(host.port, '/v1/nothing', '{}');
    assert.equal(notFound.status, 404);
    assert.equal(notFound.body.code, 'NOT_FOUND');
    assert.deepEqual((await admin(hostDir(), 'GET', '/rows')).body, rowsBefore);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((await post(host.port, '/v1/activate', valid())).status, 200);
  });

  it('keeps serving after hostile request lines, on the host, its admin socket and the authority', async () => {
    for (const port of [host.port, authority.port]) {
      for (const line of ['GET //[ HTTP/1.1', 'POST /v1/activate?%zz HTTP/1.1', 'GARBAGE', 'GET / HTTP/9.9']) {
        const answer = await rawRequest({ port, host: '127.0.0.1' }, `${line}\r\nHost: x\r\ncontent-length: 0\r\n\r\n`);
        assert.match(answer, /^HTTP\/1\.1 4\d\d/, `${line} on ${port}: ${answer.slice(0, 80)}`);
      }
    }
    const adminAnswer = await rawRequest(
      { path: join(hostDir(), 'admin.sock') },
      'GET //[ HTTP/1.1\r\nHost: x\r\n\r\n',
    );
    assert.match(adminAnswer, /^HTTP\/1\.1 404/);
    assert.equal((await post(host.port, '/v1/activate', valid())).status, 200);
    assert.equal((await admin(hostDir(), 'GET', '/status')).status, 200);
    assert.equal((await post(authority.port, '/v1/host-activations', '{')).body.code, 'BAD_JSON');
  });

  it('takes a setup key in any typed form, and refuses a host key sent as a setup key', async () => {
    const typed = world.setupKeys['desk-pro']!.toLowerCase().replace(/-/g, ' ');
    assert.equal((await post(host.port, '/v1/activate', JSON.stringify(activationBody(typed, clock.t)))).status, 200);
    const hostKey = await world.issueHostKey('desk-2026');
    const r = await post(host.port, '/v1/activate', JSON.stringify(activationBody(hostKey, clock.t)));
    assert.equal(r.status, 400);
    assert.equal(r.body.code, 'KEY_HOST_ON_CLIENT');
  });

  it('refuses a second host on one state directory, another root, plain HTTP off loopback and a test clock in production', async () => {
    const second = await volact(['host', 'serve', '--state', hostDir(), '--port', '0']);
    assert.equal(second.code, 5);
    assert.match(second.stderr, /HOST_ALREADY_RUNNING/);
    assert.equal((await post(host.port, '/v1/activate', valid())).status, 200, 'the first host still serves');
    const other = await volact([
      'host',
      'serve',
      '--state',
      join(tmp.path, 'root-pinned'),
      '--root',
      world.rootPub,
      '--port',
      '0',
      '--serve-networks',
      'x',
    ]);
    assert.equal(other.code, 2);
    const mismatch = await volact([
      'host',
      'serve',
      '--state',
      join(tmp.path, 'root-pinned'),
      '--root',
      otherWorld.rootPub,
      '--port',
      '0',
    ]);
    assert.equal(mismatch.code, 7);
    assert.match(mismatch.stderr, /Error ROOT_MISMATCH: .*root\.pub pins another publisher root/);
    const open = await volact(['authority', 'serve', '--dir', world.dir, '--port', '0', '--listen', '0.0.0.0']);
    assert.equal(open.code, 2);
    assert.match(open.stderr, /Error TLS_REQUIRED: refusing to serve plain HTTP on 0\.0\.0\.0/);
    const prod = await volact(['slmgr', '-dli', '--state', join(tmp.path, 'prod'), '--json'], {
      NODE_ENV: 'production',
      ...clock.env(),
    });
    assert.equal(prod.code, 1);
    assert.equal(prod.json.error.code, 'FAKE_CLOCK_REFUSED');
  });

  it('refuses a request whose clock is more than 4 hours off, with a signed refusal', async () => {
    const skewed = new TestClockFile(join(tmp.path, 'skewed-clock'), clock.t - 5 * HOUR);
    const m = await makeMachine(tmp.path, 'skewed', {
      root: world.rootPub,
      key: world.setupKeys['desk-pro']!,
      host: `127.0.0.1:${host.port}`,
      env: skewed.env(),
    });
    const r = await m.run(['-ato']);
    assert.equal(r.code, 5);
    assert.equal(r.json.code, 'CLOCK_SKEW');
    assert.match(r.json.message, /differs from the host's by 300 minutes/);
  });

  it('does not serve networks it was not told to serve', async () => {
    const r = await post(host.port, '/v1/activate', valid(), { localAddress: '127.0.0.2' });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'NETWORK_NOT_SERVED');
    assert.match(r.body.message, /127\.0\.0\.2/);
  });

  it('checks host settings: range errors change nothing; valid intervals reach clients', async () => {
    for (const [opt, value] of [
      ['-sai', '0'],
      ['-sai', '-5'],
      ['-sri', '99999999'],
      ['-sai', '99999999999999999999'],
      ['-sai', 'abc'],
      ['-sri', '14.5'],
      ['-sprt', '70000'],
    ] as const) {
      const r = await volact(['slmgr', '--host', hostDir(), opt, value, '--json']);
      assert.equal(r.code, 2, `${opt} ${value}`);
      assert.equal(r.json.error.code, 'VALUE_OUT_OF_RANGE', `${opt} ${value}`);
    }
    const unchanged = (await admin(hostDir(), 'GET', '/status')).body;
    assert.deepEqual([unchanged.retryMinutes, unchanged.renewalMinutes], [120, 10080]);
    const badBody = await admin(hostDir(), 'POST', '/settings', { retryMinutes: 60, renewalMinutes: 5 });
    assert.equal(badBody.status, 400);
    assert.equal(
      (await admin(hostDir(), 'GET', '/status')).body.retryMinutes,
      120,
      'a bad value in a batch changes nothing',
    );

    assert.equal((await volact(['slmgr', '--host', hostDir(), '-sai', '30'])).code, 0);
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-sri', '1440'])).code, 0);
    const m = await makeMachine(tmp.path, 'intervals', {
      root: world.rootPub,
      key: world.setupKeys['desk-pro']!,
      host: `127.0.0.1:${host.port}`,
      env: clock.env(),
    });
    await m.run(['-ato']);
    const dlv = await m.run(['-dlv']);
    assert.deepEqual([dlv.json.retryMinutes, dlv.json.renewalMinutes], [30, 1440]);
  });

  it('refuses a port in use and a malformed network list, changing nothing', async () => {
    const busy = await volact(['slmgr', '--host', hostDir(), '-sprt', String(authority.port), '--json']);
    assert.equal(busy.code, 5, busy.stdout);
    assert.equal(busy.json.error.code, 'PORT_UNAVAILABLE');
    assert.equal((await admin(hostDir(), 'GET', '/status')).body.port, host.port);
    assert.equal((await post(host.port, '/v1/activate', valid())).status, 200);

    const dir = join(tmp.path, 'bad-networks');
    const r = await volact([
      'host',
      'serve',
      '--state',
      dir,
      '--root',
      world.rootPub,
      '--port',
      '0',
      '--serve-networks',
      '10.0.0/8',
    ]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /Error USAGE: 10\.0\.0\/8 is not a network in CIDR form/);
    const empty = await volact([
      'host',
      'serve',
      '--state',
      join(tmp.path, 'other-root'),
      '--root',
      otherWorld.rootPub,
      '--port',
      '0',
      '--serve-networks',
      '',
    ]);
    assert.equal(empty.code, 2);
    const nonsense = await volact([
      'host',
      'serve',
      '--state',
      hostDir() + '-x',
      '--root',
      world.rootPub,
      '--port',
      '0',
      '--serve-networks',
      'nonsense',
    ]);
    assert.equal(nonsense.code, 2);
  });

  it('moves to a new port with -sprt and keeps serving', async () => {
    // the next port up may be another test's (CI found one in use): ask the system for a free one
    const free = await freePort();
    const r = await volact(['slmgr', '--host', hostDir(), '-sprt', String(free), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.port, free);
    assert.equal((await post(free, '/v1/activate', valid())).status, 200);
    await assert.rejects(post(host.port, '/v1/activate', valid()));
    host.port = free;
  });

  it('answers CLI mistakes with stable codes and exit codes, leaving state as it was', async () => {
    const dir = join(tmp.path, 'machines', 'cli');
    const run = (args: string[]) => volact(['slmgr', '--state', dir, '--json', ...args]);
    const hostKey = await world.issueHostKey('desk-2026');
    const cases: [string[], number, string][] = [
      [['-ipk', swapNeighbours(world.setupKeys['desk-pro']!)], 3, 'KEY_TYPO'],
      [['-ipk', 'BBBBB-BBBBB-BBBBB-BBBBB-BBBBB'], 3, 'KEY_BAD_CHARACTER'],
      [['-ipk', 'short'], 3, 'KEY_MALFORMED'],
      [['-ipk', hostKey], 3, 'KEY_HOST_ON_CLIENT'],
      [['-skms', 'host:99999'], 2, 'VALUE_OUT_OF_RANGE'],
      [['-skms', 'bad host!'], 2, 'USAGE'],
      [['-skms', '[not-v6]:1688'], 2, 'USAGE'],
      [['-frobnicate'], 2, 'USAGE'],
      [['-ato', 'extra'], 2, 'USAGE'],
      [['-sai', '60'], 2, 'USAGE'],
      [['-ato'], 3, 'KEY_NOT_INSTALLED'],
    ];
    for (const [args, exit, code] of cases) {
      const r = await run(args);
      assert.equal(r.code, exit, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.equal(r.json.error.code, code, args.join(' '));
    }
    const dli = await run(['-dli']);
    assert.equal(dli.json.licenseState, 'unlicensed');
    assert.equal(dli.json.partialKey, null);

    const hostCases: [string[], number, string][] = [
      [['-ipk', world.setupKeys['desk-pro']!], 3, 'KEY_WRONG_CLASS'],
      [['-ipk', swapNeighbours(hostKey)], 3, 'KEY_TYPO'],
      [['-skms', 'x:1'], 2, 'USAGE'],
    ];
    for (const [args, exit, code] of hostCases) {
      const r = await volact(['slmgr', '--host', hostDir(), '--json', ...args]);
      assert.equal(r.code, exit, args.join(' '));
      assert.equal(r.json.error.code, code, args.join(' '));
    }
    const missing = await volact(['slmgr', '--host', join(tmp.path, 'no-such-host'), '-dlv', '--json']);
    assert.equal(missing.code, 6);
    assert.equal(missing.json.error.code, 'ADMIN_UNAVAILABLE');
  });

  it('refuses bad host activation requests at the authority and keeps serving', async () => {
    const hostKey = await world.issueHostKey('desk-2026');
    const base = { v: 1, hostKey, hostPublicKey: 'A'.repeat(43), hostName: 'h', requestId: 'r'.repeat(20) };
    const cases: [string, string, number, string][] = [
      ['malformed JSON', '{', 400, 'BAD_JSON'],
      ['unknown field', JSON.stringify({ ...base, limit: 100 }), 400, 'BAD_REQUEST'],
      ['wrong type', JSON.stringify({ ...base, hostName: 7 }), 400, 'BAD_REQUEST'],
      ['oversized', JSON.stringify({ ...base, hostName: 'x'.repeat(20_000) }), 413, 'BODY_TOO_LARGE'],
      ['a setup key', JSON.stringify({ ...base, hostKey: world.setupKeys['desk-pro'] }), 400, 'KEY_WRONG_CLASS'],
      [
        "another authority's host key",
        JSON.stringify({ ...base, hostKey: await otherWorld.issueHostKey('desk-2026') }),
        404,
        'KEY_UNKNOWN',
      ],
      ['a typo', JSON.stringify({ ...base, hostKey: swapNeighbours(hostKey) }), 400, 'KEY_TYPO'],
    ];
    for (const [name, body, status, code] of cases) {
      const r = await post(authority.port, '/v1/host-activations', body);
      assert.equal(r.status, status, name);
      assert.equal(r.body.code, code, name);
    }
    const keys = await volact(['authority', 'host-keys', '--dir', world.dir, '--json']);
    const row = keys.json.find((k: { key: string }) => hostKey.endsWith(k.key.slice(-5)));
    assert.deepEqual([row.activationsUsed, row.activationsLimit], [0, 10], 'refused requests used nothing');
  });
});

/** Sends raw bytes (a TCP port or a Unix socket) and returns the raw answer. */
function rawRequest(target: { port?: number; host?: string; path?: string }, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = target.path ? connect(target.path) : connect(target.port!, target.host!);
    let answer = '';
    socket.on('data', (c) => (answer += c));
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
    socket.write(text);
  });
}

/** Swaps the first two different neighbouring characters: a typo the checksum must catch. */
function swapNeighbours(key: string): string {
  const chars = key.split('');
  for (let i = 0; i < chars.length - 1; i++) {
    if (chars[i] !== '-' && chars[i + 1] !== '-' && chars[i] !== chars[i + 1]) {
      [chars[i], chars[i + 1]] = [chars[i + 1]!, chars[i]!];
      return chars.join('');
    }
  }
  throw new Error('no swap possible');
}
