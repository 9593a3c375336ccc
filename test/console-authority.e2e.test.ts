import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, rawPublicKey } from '@volact/protocol';
import { authorityServer, loadKeys, openAuthority, type OpenAuthority } from '@volact/authority';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

type Reply = { status: number; headers: IncomingHttpHeaders; text: string; body: any };

/** One request as a browser or a script would send it, the path byte for byte (no URL normalising). */
function send(
  port: number,
  method: 'GET' | 'POST',
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Reply> {
  const text = opts.body === undefined ? undefined : JSON.stringify(opts.body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: {
          ...(text === undefined ? {} : { 'content-type': 'application/json' }),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode!, headers: res.headers, text: body, body: json });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const cookieOf = (r: Reply) => {
  const set = r.headers['set-cookie']?.[0];
  assert.ok(set, 'a Set-Cookie header');
  return set.split(';')[0]!;
};

describe('the authority console: sessions, cookie access to the admin API, and its pages', { timeout: 120_000 }, () => {
  const tmp = tempDir('volact-console-auth-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service | undefined;
  let admin = '';
  const port = () => authority!.port;

  const token = async (name: string, scope: string) => {
    const r = await volact(
      ['authority', 'token', 'create', '--dir', world.dir, '--name', name, '--scope', scope, '--json'],
      clock.env(),
    );
    assert.equal(r.code, 0, r.stderr);
    return r.json as { id: string; token: string };
  };
  /** Logs in; the cookie and CSRF token a console page would hold. */
  const login = async (secret: string) => {
    const r = await send(port(), 'POST', '/v1/console/session', { body: { token: secret } });
    assert.equal(r.status, 201, r.text);
    return { cookie: cookieOf(r), csrf: r.body.csrf as string, reply: r };
  };
  const same = () => ({ origin: `http://127.0.0.1:${port()}`, 'sec-fetch-site': 'same-origin' });

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 21, 9));
    world = await makeAuthority(tmp.path, clock.env());
    admin = (await token('console admin', 'admin')).token;
    authority = await world.serve(clock.env(), ['--rate-logins', '1000']);
  });

  after(async () => {
    await authority?.stop();
    tmp.cleanup();
  });

  it('logs in with a good token: an HttpOnly SameSite=Strict cookie (not Secure on loopback HTTP) and the session', async () => {
    const { reply, cookie, csrf } = await login(admin);
    const set = reply.headers['set-cookie']![0]!;
    assert.match(set, /^volact_session=[A-Za-z0-9_-]{20,}; HttpOnly; SameSite=Strict; Path=\/$/);
    assert.equal(reply.headers['x-content-type-options'], 'nosniff');
    assert.deepEqual(Object.keys(reply.body).sort(), ['csrf', 'expiresAt', 'name', 'scopes', 'tokenId']);
    assert.deepEqual(reply.body.scopes, ['admin']);
    assert.equal(reply.body.name, 'console admin');
    // a reloaded page keeps its login and gets its CSRF token again
    const again = await send(port(), 'GET', '/v1/console/session', { headers: { cookie } });
    assert.equal(again.status, 200);
    assert.equal(again.body.csrf, csrf);
    assert.equal((await send(port(), 'GET', '/v1/console/session')).body.code, 'TOKEN_MISSING');
  });

  it('refuses a wrong token with 401 TOKEN_INVALID, sets no cookie and writes nothing', async () => {
    const audit = (await send(port(), 'GET', '/v1/admin/audit', { headers: { authorization: `Bearer ${admin}` } })).body
      .length;
    const wrong = admin.slice(0, -4) + (admin.endsWith('AAAA') ? 'BBBB' : 'AAAA');
    for (const t of [wrong, 'vat_nonsense', 'x'.repeat(150)]) {
      const r = await send(port(), 'POST', '/v1/console/session', { body: { token: t } });
      assert.equal(r.status, 401, r.text);
      assert.equal(r.body.code, 'TOKEN_INVALID');
      assert.equal(r.headers['set-cookie'], undefined);
    }
    const bogus = await send(port(), 'GET', '/v1/admin/host-keys', {
      headers: { cookie: `volact_session=${randomBytes(32).toString('base64url')}` },
    });
    assert.equal(bogus.status, 401);
    assert.equal(bogus.body.code, 'SESSION_EXPIRED');
    assert.equal(
      (await send(port(), 'GET', '/v1/admin/audit', { headers: { authorization: `Bearer ${admin}` } })).body.length,
      audit,
    );
  });

  it('reads the admin API with the cookie, and takes a change only with the CSRF token from the same origin', async () => {
    const { cookie, csrf } = await login(admin);
    const keys = await send(port(), 'GET', '/v1/admin/host-keys', { headers: { cookie } });
    assert.equal(keys.status, 200, keys.text);
    const mak = await send(port(), 'POST', '/v1/admin/maks', {
      body: { v: 1, edition: 'desk-pro', activations: 5 },
      headers: { cookie, 'x-csrf-token': csrf, ...same() },
    });
    assert.equal(mak.status, 201, mak.text);
    const filed = await send(port(), 'POST', '/v1/increase-requests', {
      body: { v: 1, key: mak.body.key, what: 'activations', amount: 3, reason: 'more desks' },
    });
    assert.equal(filed.status, 201, filed.text);
    const decide = { v: 1, id: filed.body.id, decision: 'approve', amount: 2 };
    const refused: [Record<string, string>, string][] = [
      [{ cookie, ...same() }, 'CSRF_REFUSED'],
      [{ cookie, ...same(), 'x-csrf-token': 'x'.repeat(43) }, 'CSRF_REFUSED'],
      [{ cookie, 'x-csrf-token': csrf, origin: 'https://evil.example' }, 'CROSS_SITE_REFUSED'],
      [{ cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }, 'CROSS_SITE_REFUSED'],
      [{ cookie, 'x-csrf-token': csrf, 'sec-fetch-site': 'same-site' }, 'CROSS_SITE_REFUSED'],
    ];
    for (const [headers, code] of refused) {
      const r = await send(port(), 'POST', '/v1/admin/requests/decide', { body: decide, headers });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.code, code);
    }
    const pending = await send(port(), 'GET', '/v1/admin/requests?state=pending', { headers: { cookie } });
    assert.deepEqual(
      pending.body.map((r: { id: string }) => r.id),
      [filed.body.id],
      'the refused changes had no effect',
    );
    const done = await send(port(), 'POST', '/v1/admin/requests/decide', {
      body: decide,
      headers: { cookie, 'x-csrf-token': csrf, ...same() },
    });
    assert.equal(done.status, 200, done.text);
    assert.equal(done.body.state, 'approved');
    // the audit names the token the session was opened with
    const audit = await send(port(), 'GET', '/v1/admin/audit?limit=1', { headers: { cookie } });
    assert.match(audit.body[0].actor, /^token:T/);
  });

  it('gives a read-scope session the reads and refuses it a change with 403 TOKEN_SCOPE', async () => {
    const reader = await token('console reader', 'read');
    const { cookie, csrf } = await login(reader.token);
    assert.equal((await send(port(), 'GET', '/v1/admin/maks', { headers: { cookie } })).status, 200);
    const r = await send(port(), 'POST', '/v1/admin/requests/decide', {
      body: { v: 1, id: 'IR-none', decision: 'reject', note: 'no' },
      headers: { cookie, 'x-csrf-token': csrf, ...same() },
    });
    assert.equal(r.status, 403, r.text);
    assert.equal(r.body.code, 'TOKEN_SCOPE');
    assert.equal((await send(port(), 'GET', '/v1/admin/tokens', { headers: { cookie } })).body.code, 'TOKEN_SCOPE');
  });

  it('ends the sessions of a revoked token at once', async () => {
    const soon = await token('revoked soon', 'read');
    const { cookie } = await login(soon.token);
    assert.equal((await send(port(), 'GET', '/v1/admin/host-keys', { headers: { cookie } })).status, 200);
    const revoked = await send(port(), 'POST', '/v1/admin/tokens/revoke', {
      body: { v: 1, id: soon.id },
      headers: { authorization: `Bearer ${admin}` },
    });
    assert.equal(revoked.status, 200, revoked.text);
    const r = await send(port(), 'GET', '/v1/admin/host-keys', { headers: { cookie } });
    assert.equal(r.status, 401);
    assert.equal(r.body.code, 'SESSION_EXPIRED');
    assert.match(r.headers['set-cookie']![0]!, /Max-Age=0/);
    // and a revoked token's login is refused like any wrong token
    const again = await send(port(), 'POST', '/v1/console/session', { body: { token: soon.token } });
    assert.equal(again.body.code, 'TOKEN_INVALID');
  });

  it('logs out, and ends a session left idle for 30 minutes (by the injected clock)', async () => {
    const { cookie, csrf } = await login(admin);
    const out = await send(port(), 'POST', '/v1/console/session/end', {
      body: {},
      headers: { cookie, 'x-csrf-token': csrf, ...same() },
    });
    assert.equal(out.status, 200, out.text);
    assert.match(out.headers['set-cookie']![0]!, /^volact_session=; .*Max-Age=0/);
    const after = await send(port(), 'GET', '/v1/console/session', { headers: { cookie } });
    assert.equal(after.status, 401);
    assert.equal(after.body.code, 'SESSION_EXPIRED');

    const idle = await login(admin);
    clock.advance(29 * 60_000);
    assert.equal((await send(port(), 'GET', '/v1/console/session', { headers: { cookie: idle.cookie } })).status, 200);
    clock.advance(31 * 60_000);
    const gone = await send(port(), 'GET', '/v1/admin/host-keys', { headers: { cookie: idle.cookie } });
    assert.equal(gone.body.code, 'SESSION_EXPIRED');
  });

  it('lists the hosts holding slots of a key, and a released slot is gone from it', async () => {
    const { cookie, csrf } = await login(admin);
    const key = await world.issueHostKey('server-2026');
    const keyId = (await send(port(), 'GET', '/v1/admin/host-keys', { headers: { cookie } })).body.find(
      (k: { partial: string }) => key.endsWith(k.partial),
    ).id as string;
    for (const hostName of ['tokyo-kms', 'osaka-kms']) {
      const r = await send(port(), 'POST', '/v1/host-activations', {
        body: {
          v: 1,
          hostKey: key,
          hostPublicKey: rawPublicKey(generateKeyPair('host').publicKey),
          hostName,
          requestId: randomBytes(16).toString('base64url'),
        },
      });
      assert.equal(r.status, 200, r.text);
      clock.advance(1000);
    }
    const listed = await send(port(), 'GET', `/v1/admin/hosts?key=${keyId}`, { headers: { cookie } });
    assert.equal(listed.status, 200, listed.text);
    assert.deepEqual(
      listed.body.hosts.map((h: { hostName: string }) => h.hostName),
      ['osaka-kms', 'tokyo-kms'],
    );
    assert.equal(listed.body.hosts[0].activations, 1);
    const released = await send(port(), 'POST', '/v1/admin/release-host', {
      body: { v: 1, hostKeyId: keyId, hostId: listed.body.hosts[1].hostId },
      headers: { cookie, 'x-csrf-token': csrf, ...same() },
    });
    assert.equal(released.status, 200, released.text);
    const left = await send(port(), 'GET', `/v1/admin/hosts?key=${keyId}`, { headers: { cookie } });
    assert.deepEqual(
      left.body.hosts.map((h: { hostName: string }) => h.hostName),
      ['osaka-kms'],
    );
    for (const [q, code] of [
      ['', 'BAD_REQUEST'],
      ['?key=HK-none', 'REQUEST_UNKNOWN'],
    ] as const)
      assert.equal((await send(port(), 'GET', `/v1/admin/hosts${q}`, { headers: { cookie } })).body.code, code);
  });

  it('reads the catalog with its setup keys', async () => {
    const { cookie } = await login(admin);
    const r = await send(port(), 'GET', '/v1/admin/catalog', { headers: { cookie } });
    assert.equal(r.status, 200, r.text);
    const editions = r.body.catalog.editions as { code: string; setupKey: string }[];
    assert.deepEqual(Object.fromEntries(editions.map((e) => [e.code, e.setupKey])), world.setupKeys);
    assert.ok(r.body.catalog.groups.some((g: { code: string }) => g.code === 'server-2026'));
    assert.equal(typeof r.body.signedAt, 'number');
  });

  it('sends / to the console and serves it under the CSP, built or not', async () => {
    const root = await send(port(), 'GET', '/');
    assert.equal(root.status, 302);
    assert.equal(root.headers.location, '/console/');
    const page = await send(port(), 'GET', '/console/');
    assert.equal(page.status, 200);
    assert.match(page.headers['content-type']!, /^text\/html/);
    assert.match(page.headers['content-security-policy'] as string, /default-src 'none'.*frame-ancestors 'none'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
    // the API's answers are not the page's: no CSP, but nosniff
    const api = await send(port(), 'GET', '/v1/health');
    assert.equal(api.headers['content-security-policy'], undefined);
    assert.equal(api.headers['x-content-type-options'], 'nosniff');
  });
});

describe(
  'the authority console: login rate limit and the Secure cookie behind a TLS proxy',
  { timeout: 60_000 },
  () => {
    const tmp = tempDir('volact-console-limit-');
    let authority: Service | undefined;

    after(async () => {
      await authority?.stop();
      tmp.cleanup();
    });

    it('counts every login from an address, wrong ones too, and refuses the fourth of three a minute', async () => {
      const clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 21, 9, 0, 5));
      const world = await makeAuthority(tmp.path, clock.env());
      const made = await volact(
        ['authority', 'token', 'create', '--dir', world.dir, '--name', 'a', '--scope', 'read', '--json'],
        clock.env(),
      );
      authority = await world.serve(clock.env(), ['--rate-logins', '3', '--behind-tls-proxy']);
      const login = (token: string) => send(authority!.port, 'POST', '/v1/console/session', { body: { token } });
      const good = await login(made.json.token);
      assert.equal(good.status, 201);
      assert.match(good.headers['set-cookie']![0]!, /; Secure$/);
      assert.equal((await login('vat_wrong')).status, 401);
      assert.equal((await login('vat_wrong')).status, 401);
      const limited = await login(made.json.token);
      assert.equal(limited.status, 429, limited.text);
      assert.equal(limited.body.code, 'RATE_LIMITED');
      assert.equal(limited.headers['retry-after'], '55');
      clock.advance(60_000);
      assert.equal((await login(made.json.token)).status, 201);
    });
  },
);

describe('the authority console: its built files', { timeout: 60_000 }, () => {
  const tmp = tempDir('volact-console-files-');
  let opened: OpenAuthority | undefined;
  let server: Server | undefined;
  let port = 0;

  before(async () => {
    const world = await makeAuthority(tmp.path);
    const built = join(tmp.path, 'built');
    mkdirSync(join(built, 'assets'), { recursive: true });
    writeFileSync(
      join(built, 'index.html'),
      '<!doctype html><title>volact</title><script src="assets/app.js"></script>',
    );
    writeFileSync(join(built, 'assets', 'app-1234.js'), 'console.log(1)');
    opened = await openAuthority(world.dir, { now: () => Date.now() });
    server = authorityServer(
      opened.authority,
      loadKeys(world.dir).root,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      {
        consoleDir: built,
      },
    );
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    port = (server.address() as { port: number }).port;
  });

  after(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r) ?? r(undefined));
    await opened?.close();
    tmp.cleanup();
  });

  it('serves index.html for unknown paths under /console/, assets as they are, and nothing outside', async () => {
    const index = await send(port, 'GET', '/console/');
    assert.match(index.text, /<title>volact<\/title>/);
    assert.equal(index.headers['cache-control'], 'no-store');
    assert.match(index.headers['content-security-policy'] as string, /script-src 'self'/);
    const deep = await send(port, 'GET', '/console/keys/HK-1');
    assert.equal(deep.status, 200);
    assert.equal(deep.text, index.text);
    const asset = await send(port, 'GET', '/console/assets/app-1234.js');
    assert.equal(asset.text, 'console.log(1)');
    assert.match(asset.headers['content-type']!, /javascript/);
    assert.equal((await send(port, 'GET', '/console/assets/missing.js')).status, 404);
    assert.equal((await send(port, 'GET', '/console')).headers.location, '/console/');
    for (const path of [
      '/console/../../etc/passwd',
      '/console/%2e%2e/%2e%2e/etc/passwd',
      '/console/assets/..%2f..%2f..%2fetc%2fpasswd',
      '/console/..%5c..%5cetc%5cpasswd',
      '/console/assets/%2e%2e/%2e%2e/index.html',
    ]) {
      const r = await send(port, 'GET', path);
      assert.doesNotMatch(r.text, /root:/, path);
      assert.ok(r.status === 404 || r.text === index.text, `${path}: ${r.status}`);
    }
    // a change is never a file
    assert.equal((await send(port, 'POST', '/console/', { body: {} })).status, 404);
  });
});
