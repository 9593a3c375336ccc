import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect as tlsConnect } from 'node:tls';
import { connect as tcpConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir, volact } from './harness/cli.js';
import { type Service } from './harness/processes.js';
import { call, consolePort, type Reply } from './harness/console-https.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

describe('the host console: logins from other origins, error fixes, limits, TLS', { timeout: 120_000 }, () => {
  const tmp = tempDir('volact-console-review-');
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let port = 0;
  let ca = '';
  let token = '';
  const dir = () => join(tmp.path, 'host');
  const api = (method: string, path: string, opts: Parameters<typeof call>[4] = {}) =>
    call(port, ca, method, path, opts);

  before(async () => {
    world = await makeAuthority(tmp.path);
    authority = await world.serve();
    host = await startHost(dir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      extra: ['--console-listen', '127.0.0.1:0'],
    });
    ({ port } = await consolePort(host));
    ca = readFileSync(join(dir(), 'console.crt'), 'utf8');
    const r = await volact([
      'host',
      'token',
      'create',
      '--state',
      dir(),
      '--name',
      'ops',
      '--scope',
      'admin',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    token = r.json.token;
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('refuses a login from another origin even without Sec-Fetch-Site (older browsers), and sets no cookie', async () => {
    const evil = await api('POST', '/api/session', { body: { token }, headers: { origin: 'https://evil.example' } });
    assert.equal(evil.status, 403);
    assert.equal(evil.body.code, 'CROSS_SITE_REFUSED');
    assert.equal(evil.headers['set-cookie'], undefined);
    const own = await api('POST', '/api/session', {
      body: { token },
      headers: { origin: `https://127.0.0.1:${port}` },
    });
    assert.equal(own.status, 201);
    const typed = await api('POST', '/api/session', { body: { token }, headers: { 'sec-fetch-site': 'none' } });
    assert.equal(typed.status, 201);
  });

  it('tells the operator where a host console token comes from when one is missing or wrong', async () => {
    const missing = await api('GET', '/api/overview');
    assert.equal(missing.body.code, 'TOKEN_MISSING');
    assert.match(missing.body.fix, /volact host token create/);
    const otherRole = await api('GET', '/api/overview', { headers: { authorization: `Bearer vat_${'A'.repeat(40)}` } });
    assert.equal(otherRole.status, 401);
    assert.equal(otherRole.body.code, 'TOKEN_INVALID');
    assert.match(otherRole.body.fix, /volact host token create/);
    assert.ok(otherRole.headers['content-security-policy']);
  });

  it('answers a DNS event limit out of range with 400 naming the field, and keeps serving', async () => {
    const bearer = { authorization: `Bearer ${token}` };
    for (const limit of ['99999999999', '0', '-1', 'ten']) {
      const r = await api('GET', `/api/dns?limit=${limit}`, { headers: bearer });
      assert.equal(r.status, 400, limit);
      assert.equal(r.body.code, 'BAD_REQUEST');
      assert.equal(r.body.params.field, 'limit');
    }
    assert.equal((await api('GET', '/api/dns?limit=5', { headers: bearer })).status, 200);
  });

  it('speaks TLS 1.2 or newer only', async () => {
    const version = (max: 'TLSv1.1' | 'TLSv1.2') =>
      new Promise<string>((resolve) => {
        const s = tlsConnect(
          { host: '127.0.0.1', port, ca, minVersion: 'TLSv1', maxVersion: max, servername: 'localhost' },
          () => {
            resolve(s.getProtocol() ?? '?');
            s.destroy();
          },
        );
        s.once('error', () => resolve('refused'));
      });
    assert.equal(await version('TLSv1.1'), 'refused');
    assert.equal(await version('TLSv1.2'), 'TLSv1.2');
  });

  it('closes a connection over the per-address cap without writing plain HTTP into a TLS port', async () => {
    const open = (): Promise<Socket> =>
      new Promise((resolve, reject) => {
        const s = tcpConnect({ host: '127.0.0.1', port }, () => resolve(s));
        s.once('error', reject);
      });
    const held: Socket[] = [];
    try {
      for (let i = 0; i < 64; i++) held.push(await open());
      const over = await open();
      const got = await new Promise<string>((resolve) => {
        let text = '';
        over.on('data', (d: Buffer) => (text += d.toString('latin1')));
        over.on('error', () => undefined);
        over.on('close', () => resolve(text));
      });
      assert.equal(got, '', 'closed with nothing written');
    } finally {
      for (const s of held) s.destroy();
    }
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 50));
      status = (
        await api('GET', '/api/overview', { headers: { authorization: `Bearer ${token}` } }).catch(() => ({
          status: 0,
        }))
      ).status;
    }
    assert.equal(status, 200);
  });

  it('refuses an operator certificate that is not one, or whose key does not match, with USAGE and no stack', async () => {
    const other = join(tmp.path, 'other');
    const wrongKey = join(tmp.path, 'wrong.key');
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(wrongKey, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, { mode: 0o600 });
    const garbage = join(tmp.path, 'garbage.pem');
    writeFileSync(garbage, 'not a certificate\n');
    const base = ['host', 'serve', '--state', other, '--root', world.rootPub, '--port', '0', '--listen', '127.0.0.1'];
    const crt = join(dir(), 'console.crt');
    for (const files of [
      ['--console-cert', crt, '--console-key', wrongKey],
      ['--console-cert', garbage, '--console-key', wrongKey],
      ['--console-cert', crt],
      ['--console-cert', join(tmp.path, 'absent.crt'), '--console-key', wrongKey],
    ]) {
      const r = await volact([...base, '--metrics-listen', 'off', '--console-listen', '127.0.0.1:0', ...files]);
      assert.equal(r.code, 2, `${files.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, /USAGE/);
      assert.match(r.stderr, /--console-cert/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    }
  });

  it('refuses a console or metrics address that is no IP address with USAGE (exit 2), before binding anything', async () => {
    const other = join(tmp.path, 'bad-address');
    const base = ['host', 'serve', '--state', other, '--root', world.rootPub, '--port', '0', '--listen', '127.0.0.1'];
    for (const [flag, value] of [
      ['--console-listen', '999.1.1.1:1690'],
      ['--console-listen', '1.2.3:1690'],
      ['--console-listen', '[1::2::3]:1690'],
      ['--metrics-listen', '300.0.0.1:9688'],
    ] as const) {
      const rest = flag === '--console-listen' ? ['--metrics-listen', 'off'] : ['--console-listen', 'off'];
      const r = await volact([...base, ...rest, flag, value]);
      assert.equal(r.code, 2, `${flag} ${value}: ${r.stderr}`);
      assert.match(r.stderr, /USAGE/);
      assert.match(r.stderr, new RegExp(`${flag} \\S+: give ADDRESS:PORT`));
    }
  });

  it('clears the cookie of a session that has ended, as the authority does', async () => {
    const login = await api('POST', '/api/session', { body: { token } });
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const out = await api('POST', '/api/session/end', { headers: { cookie, 'x-csrf-token': login.body.csrf } });
    assert.equal(out.status, 200);
    for (const path of ['/api/overview', '/api/session']) {
      const r = await api('GET', path, { headers: { cookie } });
      assert.equal(r.status, 401, path);
      assert.equal(r.body.code, 'SESSION_EXPIRED');
      assert.match(
        String(r.headers['set-cookie']),
        /^volact_host_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0; Secure$/,
      );
    }
    const none = await api('GET', '/api/overview');
    assert.equal(none.body.code, 'TOKEN_MISSING');
    assert.equal(none.headers['set-cookie'], undefined);
  });

  it('writes each console login, refused login and change to the journal with the token name and address, never the secret', async () => {
    const before = host.output().length;
    const wrong = token.slice(0, -4) + (token.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    assert.equal((await api('POST', '/api/session', { body: { token: wrong } })).status, 401);
    assert.equal((await api('POST', '/api/session', { body: { token } })).status, 201);
    let lines: any[] = [];
    for (let i = 0; i < 50 && lines.length < 2; i++) {
      await new Promise((r) => setTimeout(r, 50));
      lines = host
        .output()
        .slice(before)
        .split('\n')
        .filter((l) => l.includes('"console login'))
        .map((l) => JSON.parse(l));
    }
    assert.deepEqual(
      lines.map((l) => [l.msg, l.code ?? l.tokenName, l.peer]),
      [
        ['console login refused', 'TOKEN_INVALID', '127.0.0.1'],
        ['console login', 'ops', '127.0.0.1'],
      ],
    );
    assert.ok(!host.output().includes(token.slice(17)) && !host.output().includes(wrong.slice(17)));
    const changed = await api('POST', '/api/settings', {
      body: { retryMinutes: 120 },
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(changed.status, 200);
    let change: any;
    for (let i = 0; i < 50 && !change; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const line = host
        .output()
        .split('\n')
        .find((l) => l.includes('"console change"'));
      change = line && JSON.parse(line);
    }
    assert.equal(change.tokenName, 'ops', "the token's name, not [redacted]");
  });

  it('volact host token says how to start the host when it does not run (ADMIN_UNAVAILABLE, exit 6 as cli.md says)', async () => {
    const none = join(tmp.path, 'not-running');
    for (const args of [['create', '--name', 'x'], ['list'], ['revoke', 'T0000000000']]) {
      const r = await volact(['host', 'token', ...args, '--state', none]);
      assert.equal(r.code, 6, r.stderr);
      assert.match(r.stderr, /ADMIN_UNAVAILABLE/);
      assert.match(r.stderr, /volact host serve --state/);
    }
    const cli = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
    assert.match(cli, /running host's admin socket \(`ADMIN_UNAVAILABLE`, exit 6/);
  });
});

describe('the authority console: admin answers are not cached', { timeout: 60_000 }, () => {
  const tmp = tempDir('volact-console-review-auth-');
  let world: AuthorityWorld;
  let authority: Service;
  let admin = '';

  const send = (method: string, path: string, headers: Record<string, string>, body?: unknown): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const text = body === undefined ? undefined : JSON.stringify(body);
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port: authority.port,
          method,
          path,
          headers: { ...(text ? { 'content-type': 'application/json' } : {}), ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const t = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, body: t ? JSON.parse(t) : undefined, headers: res.headers });
          });
        },
      );
      req.on('error', reject);
      req.end(text);
    });

  before(async () => {
    world = await makeAuthority(tmp.path);
    const r = await volact([
      'authority',
      'token',
      'create',
      '--dir',
      world.dir,
      '--name',
      'ops',
      '--scope',
      'admin',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    admin = r.json.token;
    authority = await world.serve();
  });

  after(async () => {
    await authority?.stop();
    tmp.cleanup();
  });

  it('marks every admin answer no-store, with the cookie or a bearer token: setup keys and new tokens stay out of caches', async () => {
    const login = await send('POST', '/v1/console/session', {}, { token: admin });
    assert.equal(login.status, 201);
    const cookie = String(login.headers['set-cookie']).split(';')[0]!;
    const catalog = await send('GET', '/v1/admin/catalog', { cookie });
    assert.equal(catalog.status, 200);
    assert.equal(catalog.headers['cache-control'], 'no-store');
    const made = await send(
      'POST',
      '/v1/admin/tokens',
      { cookie, 'x-csrf-token': login.body.csrf, 'sec-fetch-site': 'same-origin' },
      { v: 1, name: 'second', scopes: ['read'] },
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    assert.equal(made.headers['cache-control'], 'no-store');
    const bearer = await send('GET', '/v1/admin/host-keys', { authorization: `Bearer ${admin}` });
    assert.equal(bearer.headers['cache-control'], 'no-store');
  });
});
