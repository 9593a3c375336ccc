import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { activationBody, makeMachine, pool, post } from './harness/machines.js';
import { jsonLines, type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

/** Every line a server wrote on stderr, parsed; a line that is not a JSON object fails the test. */
function logLines(name: string, s: Service): Record<string, unknown>[] {
  const text = s.logs();
  const lines = text.split('\n').filter((l) => l !== '');
  for (const l of lines) assert.match(l, /^\{.*\}$/, `${name}: every log line is one JSON object: ${l}`);
  const parsed = jsonLines(text);
  assert.equal(parsed.length, lines.length, `${name}: every line parses`);
  return parsed;
}

/** The base64 body of every private key and secret file in a directory (root.key, mint.secret, host.key). */
function secretFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.key') || f.endsWith('.secret'))
    .map((f) =>
      readFileSync(join(dir, f), 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith('-----'))
        .join(''),
    )
    .filter((b) => b.length >= 32);
}

/**
 * The logs of a whole scenario with real processes: an authority with an admin token, a host
 * activated with a host key, machines activating with setup keys, a MAK activation, bad
 * requests. Every line is JSON with time, level and role; every request has its line; and no
 * key, token or private key used appears in any log, not even lower-cased or without dashes.
 */
describe('logs', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-logs-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  const secrets: string[] = [];
  const hostDir = () => join(tmp.path, 'host');

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 5, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('runs the scenario: token, host key, setup keys, a MAK, bad requests', async () => {
    const made = await volact(
      ['authority', 'token', 'create', '--dir', world.dir, '--name', 'ops', '--scope', 'admin', '--json'],
      clock.env(),
    );
    assert.equal(made.code, 0, made.stderr);
    const token = made.json.token as string;
    secrets.push(token, token.slice('vat_T0000000000_'.length)); // and its secret part alone
    const api = `http://127.0.0.1:${authority.port}`;
    const bearer = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

    // a host key issued over the admin API with the token, installed and activated
    const hk = await fetch(`${api}/v1/admin/host-keys`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({ v: 1, group: 'server-2026' }),
    });
    assert.equal(hk.status, 201);
    const hostKey = ((await hk.json()) as { key: string }).key;
    secrets.push(hostKey);
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ipk', hostKey], clock.env())).code, 0);
    const ato = await volact(['slmgr', '--host', hostDir(), '-ato', '--json'], clock.env());
    assert.equal(ato.code, 0, ato.stdout + ato.stderr);

    // five server machines with a setup key: the fifth reaches the threshold
    const setupKey = world.setupKeys['server-standard']!;
    secrets.push(setupKey);
    const machines = await pool([0, 1, 2, 3, 4], 3, (i) =>
      makeMachine(tmp.path, `srv-${i}`, {
        root: world.rootPub,
        key: setupKey,
        host: `127.0.0.1:${host.port}`,
        env: clock.env(),
      }),
    );
    const results = [];
    for (const m of machines) results.push(await m.run(['-ato']));
    assert.equal(results.at(-1)!.json.outcome, 'activated', 'the fifth machine reaches the threshold');

    // a MAK issued with the token and activated online
    const mk = await fetch(`${api}/v1/admin/maks`, {
      method: 'POST',
      headers: bearer,
      body: JSON.stringify({ v: 1, edition: 'desk-enterprise', activations: 2 }),
    });
    assert.equal(mk.status, 201);
    const mak = ((await mk.json()) as { key: string }).key;
    secrets.push(mak);
    const fp = join(tmp.path, 'fp.json');
    writeFileSync(
      fp,
      JSON.stringify({ osId: 'os-1', cpu: 'x', board: 'b', disks: ['d'], nics: ['52:54:00:00:00:09'] }),
    );
    const pc = { ...clock.env(), VOLACT_STATE_DIR: join(tmp.path, 'pc'), VOLACT_FINGERPRINT_FILE: fp };
    assert.equal((await volact(['client', 'trust', world.rootPub, '--authority', api], pc)).code, 0);
    assert.equal((await volact(['slmgr', '-ipk', mak], pc)).code, 0);
    const makAto = await volact(['slmgr', '--json', '-ato'], pc);
    assert.equal(makAto.code, 0, makAto.stdout + makAto.stderr);

    // bad requests that carry secrets in their bodies and headers: answered, never logged
    const bad = activationBody(mak, Date.UTC(2026, 10, 5, 9), { v: 99 });
    const refused = await post(host.port, '/v1/activate', JSON.stringify(bad), {
      headers: { 'x-request-id': 'scenario-bad-1' },
    });
    assert.equal(refused.status, 400);
    assert.equal(
      (await post(host.port, '/v1/activate', `{"setupKey":"${setupKey}",`)).status,
      400,
      'broken JSON with a key in it',
    );
    const wrong = await fetch(`${api}/v1/admin/maks`, { headers: { authorization: `Bearer ${token}x` } });
    assert.equal(wrong.status, 401);
    assert.equal((await fetch(`${api}/no/such/path?key=${hostKey}`)).status, 404);
    secrets.push(
      ...secretFilesIn(world.dir),
      ...secretFilesIn(join(world.dir, 'issuers')),
      ...secretFilesIn(hostDir()),
    );
    // the last lines are written asynchronously: wait for the 404's line before reading the logs
    const deadline = Date.now() + 10_000;
    while (!/"route":"unmatched","status":404/.test(authority.logs()) && Date.now() < deadline)
      await new Promise((res) => setTimeout(res, 50));
  });

  it('logs JSON lines with time, level and role, and one request line per request with its ID', async () => {
    for (const [name, s, role] of [
      ['authority', authority, 'authority'],
      ['host', host, 'host'],
    ] as const) {
      const lines = logLines(name, s);
      for (const l of lines) {
        assert.ok(typeof l.time === 'string' && !Number.isNaN(Date.parse(l.time)), `${name}: ISO time`);
        assert.ok(['info', 'warn', 'error'].includes(l.level as string), `${name}: level as a word`);
        assert.equal(l.role, role);
      }
      const requests = lines.filter((l) => l.msg === 'request');
      assert.ok(requests.length >= 5, `${name}: request lines`);
      for (const r of requests) {
        assert.equal(typeof r.requestId, 'string');
        assert.equal(typeof r.method, 'string');
        assert.equal(typeof r.route, 'string');
        assert.equal(typeof r.status, 'number');
        assert.equal(typeof r.ms, 'number');
        assert.match(r.peer as string, /127\.0\.0\.1/);
      }
      assert.equal(new Set(requests.map((r) => r.requestId)).size, requests.length, `${name}: one ID per request`);
    }
    const hostRequests = logLines('host', host).filter((l) => l.msg === 'request');
    assert.ok(hostRequests.some((r) => r.route === 'POST /v1/activate' && r.status === 200));
    assert.ok(
      hostRequests.some((r) => r.requestId === 'scenario-bad-1' && r.status === 400),
      "a caller's X-Request-Id names its line",
    );
    const authRequests = logLines('authority', authority).filter((l) => l.msg === 'request');
    assert.ok(authRequests.some((r) => r.route === 'POST /v1/mak-activations' && r.status === 200));
    assert.ok(
      authRequests.some((r) => r.route === 'unmatched' && r.status === 404),
      'the raw path is not logged',
    );
    assert.ok(authRequests.some((r) => r.route === 'GET /v1/admin/maks' && r.status === 401));
  });

  it('logs none of the keys, tokens or private keys used, in any form', () => {
    assert.ok(secrets.length >= 12, `the scenario ran: ${secrets.length} secrets`);
    const logs = [authority.output(), host.output()].join('\n').toLowerCase();
    const squeezed = logs.replace(/[-\s]/g, '');
    for (const s of secrets) {
      const plain = s.toLowerCase();
      const bare = plain.replace(/[-\s]/g, '');
      assert.ok(!logs.includes(plain), `a secret in the logs: ${s.slice(0, 8)}…`);
      assert.ok(!squeezed.includes(bare), `a secret without dashes in the logs: ${s.slice(0, 8)}…`);
    }
  });

  it('logs no request lines with --access-log off', async () => {
    const quiet = await world.serve(clock.env(), ['--access-log', 'off']);
    try {
      assert.equal((await fetch(`http://127.0.0.1:${quiet.port}/v1/health`)).status, 200);
      assert.equal((await fetch(`http://127.0.0.1:${quiet.port}/nope`)).status, 404);
    } finally {
      await quiet.stop();
    }
    const lines = logLines('quiet authority', quiet);
    assert.deepEqual(
      lines.map((l) => l.msg),
      ['listening', 'stopping', 'stopped'],
    );
    assert.equal(lines[0]!.accessLog, false);
  });

  it('refuses an --access-log value other than on or off, before it starts anything', async () => {
    const r = await volact(
      ['host', 'serve', '--state', join(tmp.path, 'never'), '--root', world.rootPub, '--access-log', 'verbose'],
      clock.env(),
    );
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--access-log verbose: give on or off/);
    assert.match(r.stderr, /^Error USAGE/m);
  });

  it('starts and stops with JSON lines: listening with the port, stopped with the signal', async () => {
    await host.stop();
    const lines = logLines('host', host);
    const listening = lines.find((l) => l.msg === 'listening')!;
    assert.equal(listening.port, host.port);
    assert.equal(listening.address, '127.0.0.1');
    assert.equal(listening.adminSocket, join(hostDir(), 'admin.sock'));
    const last = lines.at(-1)!;
    assert.deepEqual([last.msg, last.signal, last.level], ['stopped', 'SIGTERM', 'info']);
    assert.equal(host.output().trim(), host.logs().trim(), 'nothing on stdout');
  });
});
