import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { tempDir, volact } from './harness/cli.js';
import { activationBody, post } from './harness/machines.js';
import { type Service } from './harness/processes.js';
import { call, consolePort, type Reply } from './harness/console-https.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

const MACHINES = 23;

/**
 * The host console's backend (issue 15): a real host process with its console on HTTPS (the
 * self-signed certificate it made), tokens made with the CLI, logins, scopes, CSRF and
 * same-origin checks, and the read routes after simulated machines activate.
 */
describe('the host console API', { timeout: 120_000 }, () => {
  const tmp = tempDir('volact-console-host-');
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let port = 0;
  let ca = '';
  let fingerprint = '';
  const dir = () => join(tmp.path, 'host');
  const tokens: Record<string, { id: string; token: string }> = {};
  let cookie = '';
  let csrf = '';
  const api = (method: string, path: string, opts: Parameters<typeof call>[4] = {}) =>
    call(port, ca, method, path, opts);
  const withCookie = (extra: Record<string, string> = {}) => ({ cookie, ...extra });

  before(async () => {
    world = await makeAuthority(tmp.path);
    authority = await world.serve();
    host = await startHost(dir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      extra: ['--console-listen', '127.0.0.1:0'],
    });
    ({ port, fingerprint } = await consolePort(host));
    ca = readFileSync(join(dir(), 'console.crt'), 'utf8');
    const key = await world.issueHostKey('server-2026');
    for (const args of [['-ipk', key], ['-ato']]) {
      const r = await volact(['slmgr', '--host', dir(), ...args]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const now = Date.now();
    const editions = ['desk-pro', 'desk-enterprise', 'server-standard', 'server-datacenter'];
    for (let i = 0; i < MACHINES; i++) {
      const body = activationBody(world.setupKeys[editions[i % editions.length]!]!, now, { vm: i % 3 === 0 });
      assert.equal((await post(host.port, '/v1/activate', JSON.stringify(body))).status, 200);
    }
    for (const scope of ['admin', 'read']) {
      const r = await volact([
        'host',
        'token',
        'create',
        '--state',
        dir(),
        '--name',
        `ops-${scope}`,
        '--scope',
        scope,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.json.token, /^vht_T[0-9a-f]{10}_[A-Za-z0-9_-]{32}$/);
      assert.equal(r.json.consoleUrl, `https://127.0.0.1:${port}/`);
      tokens[scope] = { id: r.json.id, token: r.json.token };
    }
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('serves TLS with the certificate it made: key 0600, fingerprint logged, for localhost and 127.0.0.1', async () => {
    assert.equal(statSync(join(dir(), 'console.key')).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir(), 'console.crt')).mode & 0o777, 0o644);
    const x509 = new X509Certificate(ca);
    assert.equal(x509.fingerprint256, fingerprint);
    assert.equal(await servedFingerprint(port), fingerprint);
    assert.ok(x509.checkIP('127.0.0.1') && x509.checkHost('localhost') && x509.checkIP('::1'));
    // the request above verified the chain against console.crt alone (ca), as a browser would after trusting it
    const page = await api('GET', '/');
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-security-policy']), /default-src 'none'/);
    assert.equal(page.headers['x-frame-options'], 'DENY');
  });

  it('lists tokens without secrets, and refuses a wrong token (401) or none', async () => {
    const list = await volact(['host', 'token', 'list', '--state', dir(), '--json']);
    assert.equal(list.code, 0);
    assert.deepEqual(
      list.json.map((t: any) => [t.name, t.scope, t.revokedAt]),
      [
        ['ops-admin', 'admin', null],
        ['ops-read', 'read', null],
      ],
    );
    assert.ok(!list.stdout.includes(tokens.admin!.token.slice(17)));
    const wrong = tokens.admin!.token.slice(0, -4) + 'AAAA';
    assert.equal((await api('POST', '/api/session', { body: { token: wrong } })).body.code, 'TOKEN_INVALID');
    assert.equal((await api('GET', '/api/overview')).body.code, 'TOKEN_MISSING');
    const bearer = await api('GET', '/api/overview', { headers: { authorization: `Bearer ${wrong}` } });
    assert.equal(bearer.status, 401);
  });

  it('logs in: an HttpOnly, SameSite=Strict, Secure cookie and a CSRF token; a reload finds the session', async () => {
    const r = await api('POST', '/api/session', { body: { token: tokens.admin!.token } });
    assert.equal(r.status, 201);
    const set = String(r.headers['set-cookie']);
    assert.match(set, /^volact_host_session=[A-Za-z0-9_-]+; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    cookie = set.split(';')[0]!;
    csrf = r.body.csrf;
    assert.deepEqual(r.body.scopes, ['read', 'admin']);
    const again = await api('GET', '/api/session', { headers: withCookie() });
    assert.equal(again.status, 200);
    assert.equal(again.body.csrf, csrf);
  });

  it('takes a change with the cookie only with the CSRF token, from its own origin, in range', async () => {
    const body = { retryMinutes: 90 };
    const noToken = await api('POST', '/api/settings', { body, headers: withCookie() });
    assert.equal(noToken.status, 403);
    assert.equal(noToken.body.code, 'CSRF_REFUSED');
    const evil = await api('POST', '/api/settings', {
      body,
      headers: withCookie({ 'x-csrf-token': csrf, origin: 'https://evil.example' }),
    });
    assert.equal(evil.body.code, 'CROSS_SITE_REFUSED');
    const site = await api('POST', '/api/settings', {
      body,
      headers: withCookie({ 'x-csrf-token': csrf, 'sec-fetch-site': 'cross-site' }),
    });
    assert.equal(site.body.code, 'CROSS_SITE_REFUSED');
    const slmgr = await volact(['slmgr', '--host', dir(), '-sai', '5', '--json']);
    const out = await api('POST', '/api/settings', {
      body: { retryMinutes: 5 },
      headers: withCookie({ 'x-csrf-token': csrf }),
    });
    assert.equal(out.status, 400);
    assert.equal(out.body.code, 'VALUE_OUT_OF_RANGE');
    assert.match(slmgr.stdout + slmgr.stderr, /VALUE_OUT_OF_RANGE/);
    const ok = await api('POST', '/api/settings', { body, headers: withCookie({ 'x-csrf-token': csrf }) });
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    assert.equal(ok.body.retryMinutes, 90);
  });

  it('refuses a change to a read token (403 TOKEN_SCOPE), which still reads', async () => {
    const auth = { authorization: `Bearer ${tokens.read!.token}` };
    const r = await api('POST', '/api/settings', { body: { retryMinutes: 60 }, headers: auth });
    assert.equal(r.status, 403);
    assert.equal(r.body.code, 'TOKEN_SCOPE');
    assert.equal((await api('GET', '/api/status', { headers: auth })).status, 200);
  });

  it('shows the overview, the count history and the events after activations', async () => {
    const o = await api('GET', '/api/overview', { headers: withCookie() });
    assert.equal(o.status, 200);
    assert.equal(o.body.currentCount, MACHINES);
    assert.equal(o.body.machines.total, MACHINES);
    assert.equal(
      o.body.machines.licensed + o.body.machines.grace + o.body.machines.notification + o.body.machines.unlicensed,
      MACHINES,
    );
    assert.equal(o.body.host.activated, true);
    assert.deepEqual(o.body.thresholds, { client: 25, server: 5 });
    const h = await api('GET', '/api/count-history?days=90', { headers: withCookie() });
    assert.equal(h.body.points.at(-1).count, MACHINES);
    const e1 = await api('GET', '/api/events?limit=10', { headers: withCookie() });
    assert.equal(e1.body.events.length, 10);
    const e2 = await api('GET', `/api/events?limit=100&cursor=${e1.body.nextCursor}`, { headers: withCookie() });
    assert.equal(e1.body.events.length + e2.body.events.length, MACHINES);
    assert.equal(e2.body.nextCursor, null);
    assert.ok(e1.body.events[0].id > e1.body.events[9].id, 'newest first');
  });

  it('pages through the machines by cursor, each once, with filters and sorts', async () => {
    for (const sort of ['lastSeen', 'firstSeen', 'name', 'requests']) {
      const seen: string[] = [];
      let cursor: string | null = '';
      while (cursor !== null) {
        const r: Reply = await api(
          'GET',
          `/api/machines?limit=7&sort=${sort}&order=asc${cursor ? `&cursor=${cursor}` : ''}`,
          {
            headers: withCookie(),
          },
        );
        assert.equal(r.status, 200, JSON.stringify(r.body));
        seen.push(...r.body.machines.map((m: any) => m.machineId));
        cursor = r.body.nextCursor;
      }
      assert.equal(seen.length, MACHINES, sort);
      assert.equal(new Set(seen).size, MACHINES, sort);
    }
    const vms = await api('GET', '/api/machines?vm=true&limit=200', { headers: withCookie() });
    assert.equal(vms.body.machines.length, Math.ceil(MACHINES / 3));
    assert.equal(vms.body.total, null);
    const servers = await api('GET', '/api/machines?kind=server&limit=200', { headers: withCookie() });
    assert.ok(servers.body.machines.every((m: any) => m.kind === 'server'));
    const licensed = await api('GET', '/api/machines?state=licensed&limit=200', { headers: withCookie() });
    for (const m of licensed.body.machines) assert.ok(Date.parse(m.expiresAt) > Date.now());
    const one = vms.body.machines[0];
    const found = await api('GET', `/api/machines?q=${one.machineId.slice(0, 8)}`, { headers: withCookie() });
    assert.ok(found.body.machines.some((m: any) => m.machineId === one.machineId));
  });

  it('answers bad query values and hostile input with stable codes, and keeps serving', async () => {
    for (const [path, field] of [
      ['/api/machines?limit=0', 'limit'],
      ['/api/machines?limit=201', 'limit'],
      ['/api/machines?state=happy', 'state'],
      ['/api/machines?sort=id;drop', 'sort'],
      ['/api/machines?cursor=bm90LWEtY3Vyc29y', 'cursor'],
      ['/api/events?since=yesterday', 'since'],
      ['/api/count-history?days=7', 'days'],
    ] as const) {
      const r = await api('GET', path, { headers: withCookie() });
      assert.equal(r.status, 400, path);
      assert.equal(r.body.code, 'BAD_REQUEST', path);
      assert.equal(r.body.params.field, field, path);
    }
    const big = await api('POST', '/api/session', { raw: JSON.stringify({ token: 'x'.repeat(100_000) }) });
    assert.equal(big.status, 413);
    const q = await api('GET', `/api/machines?q=${'%25'.repeat(5000)}`, { headers: withCookie() });
    assert.ok(q.status === 400 || q.status === 431 || q.status === 414, String(q.status));
    assert.equal((await api('GET', '/api/nothing', { headers: withCookie() })).body.code, 'NOT_FOUND');
    assert.equal((await api('GET', '/api/overview', { headers: withCookie() })).status, 200);
  });

  it('verifies the log in the background, and verify-log passes with the token records', async () => {
    const start = await api('POST', '/api/log-verification', { headers: withCookie({ 'x-csrf-token': csrf }) });
    assert.equal(start.status, 202);
    let state = start.body.state;
    for (let i = 0; i < 100 && state === 'running'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      state = (await api('GET', '/api/log-verification', { headers: withCookie() })).body.state;
    }
    assert.equal(state, 'verified');
    const r = await volact(['host', 'verify-log', '--state', dir(), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.intact, true);
  });

  it('ends a revoked token’s sessions at once, and refuses it as a bearer token', async () => {
    const r = await volact(['host', 'token', 'revoke', tokens.admin!.id, '--state', dir(), '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.ok(r.json.revokedAt);
    const s = await api('GET', '/api/overview', { headers: withCookie() });
    assert.equal(s.status, 401);
    assert.equal(s.body.code, 'SESSION_EXPIRED');
    const b = await api('GET', '/api/overview', { headers: { authorization: `Bearer ${tokens.admin!.token}` } });
    assert.equal(b.body.code, 'TOKEN_INVALID');
    const v = await volact(['host', 'verify-log', '--state', dir(), '--json']);
    assert.equal(v.json.intact, true, v.stdout);
  });

  it('refuses a start on a console address that is taken or malformed, changing nothing', async () => {
    const other = join(tmp.path, 'other');
    const base = ['host', 'serve', '--state', other, '--root', world.rootPub, '--port', '0', '--listen', '127.0.0.1'];
    const taken = await volact([...base, '--metrics-listen', 'off', '--console-listen', `127.0.0.1:${port}`]);
    assert.equal(taken.code, 5, taken.stderr);
    assert.match(taken.stderr, /PORT_UNAVAILABLE/);
    const bad = await volact([...base, '--console-listen', 'everywhere']);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, /USAGE/);
    assert.equal(
      (await api('GET', '/api/overview', { headers: { authorization: `Bearer ${tokens.read!.token}` } })).status,
      200,
    );
  });

  it('limits failed logins per address (429 RATE_LIMITED with Retry-After)', async () => {
    let last: Reply | undefined;
    for (let i = 0; i < 12; i++) last = await api('POST', '/api/session', { body: { token: 'vht_T0000000000_nope' } });
    assert.equal(last!.status, 429);
    assert.equal(last!.body.code, 'RATE_LIMITED');
    assert.ok(Number(last!.headers['retry-after']) > 0);
  });
});
