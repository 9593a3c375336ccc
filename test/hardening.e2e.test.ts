import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, TestClockFile, tempDir, volact, type CliResult } from './harness/cli.js';
import { activationBody, admin, makeMachine, post } from './harness/machines.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

/**
 * Issue 10, section 1, items 1 to 9: connections that never finish, state directories under
 * /proc, files that never end, a lost host.db, damaged and foreign client licenses, bodies that
 * are not JSON or not UTF-8, and 429 answers that say when to come back.
 */
describe('hardening against hostile input and damaged state', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-hard-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let adminToken: string;
  const hostDir = () => join(tmp.path, 'host');
  const setupKey = () => world.setupKeys['server-standard']!;

  before(async () => {
    // 09:00:15 UTC: a rate-limit window has 45 seconds left
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 3, 9, 0, 15));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
    const key = await world.issueHostKey('server-2026');
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ipk', key])).code, 0);
    assert.equal((await volact(['slmgr', '--host', hostDir(), '-ato'], clock.env())).code, 0);
    const token = await volact(
      ['authority', 'token', 'create', '--name', 'hardening', '--scope', 'admin', '--dir', world.dir, '--json'],
      clock.env(),
    );
    adminToken = token.json.token;
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  const valid = (over: Record<string, unknown> = {}) => JSON.stringify(activationBody(setupKey(), clock.t, over));

  describe('bodies: application/json only, strict UTF-8', () => {
    it('answers 415 UNSUPPORTED_MEDIA_TYPE to a form, plain text, multipart or no Content-Type on the host, and writes nothing', async () => {
      const rows = (await admin(hostDir(), 'GET', '/rows')).body;
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/json; charset=latin1',
        'application/jsonx',
        '',
      ]) {
        const r = await post(host.port, '/v1/activate', valid(), { headers: { 'content-type': type } });
        assert.equal(r.status, 415, `${type}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'UNSUPPORTED_MEDIA_TYPE', type);
        assert.match(r.body.fix, /application\/json/);
      }
      assert.deepEqual((await admin(hostDir(), 'GET', '/rows')).body, rows);
      for (const type of ['application/json', 'Application/JSON; charset=UTF-8', 'application/json;charset="utf-8"']) {
        assert.equal(
          (await post(host.port, '/v1/activate', valid(), { headers: { 'content-type': type } })).status,
          200,
          type,
        );
      }
    });

    it('answers 415 on every POST endpoint of the authority (the admin API with a valid token too) and on the host admin socket', async () => {
      const doc = (await getJson(authority.port, '/v1/openapi.json')) as {
        paths: Record<string, Record<string, { requestBody?: unknown }>>;
      };
      const posts = Object.entries(doc.paths)
        .filter(([, ops]) => ops.post?.requestBody)
        .map(([path]) => path);
      assert.ok(posts.length >= 10, `POST endpoints: ${posts.join(' ')}`);
      for (const path of posts) {
        const r = await post(authority.port, path, '{"v":1}', {
          headers: { 'content-type': 'text/plain', authorization: `Bearer ${adminToken}` },
        });
        assert.equal(r.status, 415, `${path}: ${JSON.stringify(r.body)}`);
        assert.equal(r.body.code, 'UNSUPPORTED_MEDIA_TYPE', path);
      }
      const settings = await rawUnix(
        join(hostDir(), 'admin.sock'),
        'POST /settings HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 21\r\n\r\n{"retryMinutes":9999}',
      );
      assert.match(settings, /^HTTP\/1\.1 415/);
      assert.equal((await admin(hostDir(), 'GET', '/status')).body.retryMinutes, 120);
    });

    it('answers 400 BAD_ENCODING to invalid UTF-8 and BAD_REQUEST to a lone surrogate, and keeps real Japanese names', async () => {
      const rows = (await admin(hostDir(), 'GET', '/rows')).body;
      const text = valid({ machineName: 'NAME' });
      for (const bytes of [[0xc3, 0x28], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff], [0xe6, 0x97]]) {
        const [a, b] = text.split('NAME') as [string, string];
        const body = Buffer.concat([Buffer.from(a), Buffer.from(bytes), Buffer.from(b)]);
        const r = await post(host.port, '/v1/activate', body);
        assert.equal(r.status, 400, `bytes ${bytes.join(',')}`);
        assert.equal(r.body.code, 'BAD_ENCODING');
      }
      const surrogate = await post(host.port, '/v1/activate', text.replace('NAME', '\\ud800x'));
      assert.equal(surrogate.status, 400);
      assert.equal(surrogate.body.code, 'BAD_REQUEST');
      assert.equal(surrogate.body.params.field, 'machineName');
      assert.deepEqual((await admin(hostDir(), 'GET', '/rows')).body, rows);
      const hostKey = await world.issueHostKey('desk-2026');
      const bad = Buffer.concat([
        Buffer.from(`{"v":1,"hostKey":"${hostKey}","hostPublicKey":"${'A'.repeat(43)}","hostName":"`),
        Buffer.from([0xc3, 0x28]),
        Buffer.from(`","requestId":"${'r'.repeat(20)}"}`),
      ]);
      const authorityAnswer = await post(authority.port, '/v1/host-activations', bad);
      assert.equal(authorityAnswer.status, 400);
      assert.equal(authorityAnswer.body.code, 'BAD_ENCODING');
      const named = JSON.parse(valid({ machineName: '経理部-PC01' })) as { machineId: string };
      assert.equal((await post(host.port, '/v1/activate', JSON.stringify(named))).status, 200);
      const machines = (await admin(hostDir(), 'GET', '/machines?limit=5')).body as {
        machineId: string;
        machineName: string;
      }[];
      assert.equal(machines.find((m) => m.machineId === named.machineId)?.machineName, '経理部-PC01');
    });
  });

  it('caps open connections per address (503 TOO_MANY_CONNECTIONS, Retry-After) and in total (the longest idle one makes room), serving everyone else', async () => {
    const capped = await startHost(join(tmp.path, 'capped'), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
      extra: ['--max-connections-per-address', '5', '--max-connections', '12'],
    });
    const idle: Socket[] = [];
    const open = (localAddress: string) =>
      new Promise<Socket>((resolve, reject) => {
        const socket = connect({ port: capped.port, host: '127.0.0.1', localAddress });
        socket.once('connect', () => resolve(socket));
        socket.once('error', reject);
        idle.push(socket);
      });
    try {
      for (let i = 0; i < 5; i++) await open('127.0.0.3');
      const refused = await rawFrom('127.0.0.3', capped.port, 'GET /v1/health HTTP/1.1\r\nHost: x\r\n\r\n');
      assert.match(refused, /^HTTP\/1\.1 503 /);
      assert.match(refused, /\r\nRetry-After: 1\r\n/);
      assert.match(refused, /"code":"TOO_MANY_CONNECTIONS"/);
      assert.match(refused, /too many open connections from address 127\.0\.0\.3; at most 5/);
      assert.match(
        await rawFrom('127.0.0.4', capped.port, 'GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        /^HTTP\/1\.1 200 /,
        'another address is served',
      );

      for (let i = 0; i < 5; i++) await open('127.0.0.5');
      for (let i = 0; i < 2; i++) await open('127.0.0.6');
      const closed = new Promise<number>((resolve) =>
        idle.forEach((socket, i) => socket.once('close', () => resolve(i))),
      );
      assert.match(
        await rawFrom('127.0.0.7', capped.port, 'GET /v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'),
        /^HTTP\/1\.1 200 /,
        'served at the total cap',
      );
      assert.equal(await closed, 0, 'the connection idle longest made room');
      const status = (await admin(join(tmp.path, 'capped'), 'GET', '/status')).body;
      assert.equal(status.connections.refusedPerAddress, 1);
      assert.equal(status.connections.evicted, 1);
      assert.deepEqual([status.connections.perAddressLimit, status.connections.totalLimit], [5, 12]);
    } finally {
      for (const socket of idle) socket.destroy();
      await capped.stop();
    }
  });

  it('says when to come back: a 429 carries Retry-After, the seconds left in the minute', async () => {
    const limited = await world.serve({}, ['--rate-per-address', '2', '--rate-per-key', '0']);
    try {
      const body = JSON.stringify({ v: 1, installationId: 'X' });
      const answers = [];
      for (let i = 0; i < 3; i++) answers.push(await postWithHeaders(limited.port, '/v1/offline-confirmations', body));
      const last = answers[2]!;
      assert.equal(last.status, 429, JSON.stringify(last.body));
      assert.equal(last.body.code, 'RATE_LIMITED');
      assert.equal(last.headers['retry-after'], '45', 'the window began at 09:00:00 and it is 09:00:15');
      assert.equal(last.body.params.retryAfter, 45);
      assert.match(last.body.fix, /Try again in 45 seconds/);
    } finally {
      await limited.stop();
    }
  });

  describe('state directories and files', () => {
    it('refuses a state directory under /proc at once with STATE_UNAVAILABLE (no 100 % CPU loop)', async () => {
      for (const args of [
        ['authority', 'init', '--dir', '/proc/volact-x', '--json'],
        ['slmgr', '--state', '/proc/volact-x', '-ipk', setupKey(), '--json'],
        ['host', 'serve', '--state', '/proc/volact-x', '--port', '0'],
        ['slmgr', '--state', '/sys/volact-x', '-dli', '--json'],
      ]) {
        const started = Date.now();
        const r = await bounded(args, 10_000);
        assert.ok(Date.now() - started < 5000, `${args.join(' ')} took ${Date.now() - started} ms`);
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout + r.stderr, /STATE_UNAVAILABLE/);
      }
    });

    it('reads files named on the command line with a bound: /dev/zero is FILE_TOO_LARGE at once', async () => {
      const cases: string[][] = [
        ['authority', 'import-catalog', '/dev/zero', '--dir', world.dir, '--json'],
        ['client', 'trust', '/dev/zero', '--state', join(tmp.path, 'zero-client'), '--json'],
        ['host', 'serve', '--state', join(tmp.path, 'zero-host'), '--root', '/dev/zero', '--port', '0'],
        [
          'host',
          'serve',
          '--state',
          hostDir() + '-zero',
          '--root',
          world.rootPub,
          '--tsig-key',
          '/dev/zero',
          '--port',
          '0',
        ],
        [
          'authority',
          'confirm',
          '--in',
          '/dev/zero',
          '--out',
          join(tmp.path, 'cids.txt'),
          '--dir',
          world.dir,
          '--json',
        ],
        ['authority', 'confirm', 'X', '--url', 'https://127.0.0.1:1', '--token-file', '/dev/zero', '--json'],
        [
          'authority',
          'serve',
          '--dir',
          world.dir,
          '--port',
          '0',
          '--tls-cert',
          '/dev/zero',
          '--tls-key',
          '/dev/zero',
          '--json',
        ],
        [
          'client',
          'directory',
          '--url',
          'ldap://127.0.0.1:1',
          '--base',
          'dc=x',
          '--bind-dn',
          'cn=pc,dc=x',
          '--password-file',
          '/dev/zero',
          '--state',
          join(tmp.path, 'zero-client'),
          '--json',
        ],
      ];
      for (const args of cases) {
        const started = Date.now();
        const r = await bounded(args, 20_000);
        assert.ok(Date.now() - started < 10_000, `${args.join(' ')} took ${Date.now() - started} ms`);
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
        assert.match(r.stdout + r.stderr, /FILE_TOO_LARGE/, args.join(' '));
        assert.match(r.stdout + r.stderr, /\/dev\/zero is larger than \d+ bytes/, args.join(' '));
      }
      assert.equal(existsSync(join(tmp.path, 'cids.txt')), false);
    });

    it('refuses to start a host whose host.db is empty or missing beside its host.key, and says how to restore', async () => {
      const dir = join(tmp.path, 'lost-db');
      const first = await startHost(dir, {
        root: world.rootPub,
        authority: `http://127.0.0.1:${authority.port}`,
        env: clock.env(),
      });
      await first.stop();
      copyFileSync(join(dir, 'host.db'), join(tmp.path, 'host.db.backup'));
      writeFileSync(join(dir, 'host.db'), '');
      for (const what of ['empty (0 bytes)', 'missing']) {
        const r = await bounded(
          ['host', 'serve', '--state', dir, '--port', '0', '--listen', '127.0.0.1'],
          15_000,
          clock.env(),
        );
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(
          r.stderr,
          new RegExp(
            `Error STATE_CORRUPT: local state ${join(dir, 'host.db')} cannot be read: it is ${what.replace(/[()]/g, '\\$&')}, but host.key shows this host was set up here`,
          ),
        );
        assert.match(r.stderr, /Restore host\.db from a backup/);
        assert.match(r.stderr, /Fix: Restore .*host\.db from a backup; docs\/operations\.md#damaged-state/);
        rmSync(join(dir, 'host.db'), { force: true });
      }
      copyFileSync(join(tmp.path, 'host.db.backup'), join(dir, 'host.db'));
      const restored = await startHost(dir, {
        root: world.rootPub,
        authority: `http://127.0.0.1:${authority.port}`,
        env: clock.env(),
      });
      await restored.stop();
      rmSync(join(dir, 'host.db'));
      const fresh = await startHost(dir, {
        root: world.rootPub,
        authority: `http://127.0.0.1:${authority.port}`,
        env: clock.env(),
        extra: ['--new-database'],
      });
      await fresh.stop();
      // and a new directory starts as a new host without a word
      const brandNew = await startHost(join(tmp.path, 'brand-new'), {
        root: world.rootPub,
        authority: `http://127.0.0.1:${authority.port}`,
        env: clock.env(),
      });
      await brandNew.stop();
    });

    it('refuses to start a host whose host.key is gone while host.db holds activated keys', async () => {
      const dir = join(tmp.path, 'lost-key');
      const other = await startHost(dir, {
        root: world.rootPub,
        authority: `http://127.0.0.1:${authority.port}`,
        env: clock.env(),
      });
      assert.equal((await volact(['slmgr', '--host', dir, '-ipk', await world.issueHostKey('desk-2026')])).code, 0);
      assert.equal((await volact(['slmgr', '--host', dir, '-ato'], clock.env())).code, 0);
      await other.stop();
      rmSync(join(dir, 'host.key'));
      const r = await bounded(
        ['host', 'serve', '--state', dir, '--port', '0', '--listen', '127.0.0.1'],
        15_000,
        clock.env(),
      );
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `Error STATE_CORRUPT: local state ${join(dir, 'host.key')} cannot be read: it is missing, but host\\.db holds activated host keys`,
        ),
      );
      assert.equal(existsSync(join(dir, 'host.key')), false, 'no new key was made');
    });

    it('names a damaged license.json or root.pub in -dli, -dlv and -xpr (exit 1), says whose a copied license is, and -ato replaces it', async () => {
      for (let i = 0; i < 4; i++) assert.equal((await post(host.port, '/v1/activate', valid())).status, 200);
      const env = clock.env();
      const m = await makeMachine(tmp.path, 'licensed', {
        root: world.rootPub,
        key: setupKey(),
        host: `127.0.0.1:${host.port}`,
        env,
      });
      const ato = await m.run(['-ato']);
      assert.equal(ato.code, 0, ato.stdout + ato.stderr);
      const license = join(m.dir, 'license.json');
      const good = readFileSync(license, 'utf8');
      writeFileSync(license, good.slice(0, good.length / 2));
      for (const op of ['-dli', '-dlv', '-xpr']) {
        const r = await m.run([op]);
        assert.equal(r.code, 1, `${op}: ${r.stdout}`);
        assert.equal(r.json.error.code, 'STATE_CORRUPT', op);
        assert.equal(r.json.error.params.file, license, op);
        const human = await volact(['slmgr', '--state', m.dir, op], env);
        assert.match(human.stderr, new RegExp(`Error STATE_CORRUPT: local state ${license} cannot be read`));
      }
      const again = await m.run(['-ato']);
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal((await m.run(['-dli'])).json.licenseState, 'licensed');

      const other = await makeMachine(tmp.path, 'copied-into', {
        root: world.rootPub,
        key: setupKey(),
        host: `127.0.0.1:${host.port}`,
        env,
      });
      copyFileSync(license, join(other.dir, 'license.json'));
      const copied = await other.run(['-dli']);
      assert.equal(copied.code, 0);
      assert.equal(copied.json.licenseState, 'initialGrace');
      const ours = (await other.run(['-dlv'])).json.machineId;
      const theirs = (await m.run(['-dlv'])).json.machineId;
      assert.match(
        copied.json.reason,
        new RegExp(`license\\.json was issued to another machine \\(${theirs}\\), not to this one \\(${ours}\\)`),
      );

      writeFileSync(join(m.dir, 'root.pub'), 'not a key');
      const root = await m.run(['-dli']);
      assert.equal(root.code, 1);
      assert.equal(root.json.error.code, 'STATE_CORRUPT');
      assert.equal(root.json.error.params.file, join(m.dir, 'root.pub'));
    });
  });
});

/** GET and parse JSON. */
function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let text = '';
      res.on('data', (c) => (text += c));
      res.on('end', () => resolve(JSON.parse(text)));
    })
      .on('error', reject)
      .end();
  });
}

/** POST returning the headers too. */
function postWithHeaders(
  port: number,
  path: string,
  body: string,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.on('data', (c) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** Raw bytes over TCP from a given loopback address; the raw answer once the server closes (or after 5 s). */
function rawFrom(localAddress: string, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    let answer = '';
    socket.on('data', (c) => (answer += c));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
    socket.write(text);
  });
}

/** Raw bytes to a Unix socket; the raw answer. */
function rawUnix(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(path);
    let answer = '';
    socket.on('data', (c) => {
      answer += c;
      if (/\r\n\r\n/.test(answer)) socket.end();
    });
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => socket.destroy());
    socket.write(text);
  });
}

/** volact ARGS killed after `ms`, so a command that would spin or read forever fails instead of hanging the suite. */
function bounded(args: string[], ms: number, env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr, json });
    });
  });
}
