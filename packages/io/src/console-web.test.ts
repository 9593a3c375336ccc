import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { VolactError } from '@volact/protocol';
import { ConsoleSessions, checkConsoleWrite, consoleStatic, sessionCookie } from './console-web.js';
import { router } from './http-server.js';

const MIN = 60_000;
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const cookieOf = (id: string) => `other=1; volact_session=${id}; x=y`;
const identity = { tokenId: 'T0123456789', name: 'ops', scopes: ['read'] };

function codeOf(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return err instanceof VolactError ? err.code : 'other';
  }
}

describe('ConsoleSessions', () => {
  it('finds a session by its cookie, extends it while used, and ends it when idle, too old, logged out or revoked', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ now: () => now, idleMs: 30 * MIN, maxAgeMs: 60 * MIN });
    const s = sessions.create(identity);
    assert.notEqual(s.id, s.csrf);
    assert.equal(sessions.find(req({ cookie: cookieOf(s.id) }))?.identity.tokenId, 'T0123456789');
    now += 29 * MIN;
    assert.ok(sessions.find(req({ cookie: cookieOf(s.id) })), 'used within the idle time');
    now += 29 * MIN;
    assert.ok(sessions.find(req({ cookie: cookieOf(s.id) })), 'still within the idle time of the last use');
    now += 2 * MIN + 1;
    assert.equal(sessions.find(req({ cookie: cookieOf(s.id) })), undefined, 'past the maximum age');

    const idle = sessions.create(identity);
    now += 30 * MIN;
    assert.equal(sessions.find(req({ cookie: cookieOf(idle.id) })), undefined, 'idle for 30 minutes');

    const a = sessions.create(identity);
    const b = sessions.create({ ...identity, tokenId: 'T9999999999' });
    sessions.endToken('T0123456789');
    assert.equal(sessions.find(req({ cookie: cookieOf(a.id) })), undefined);
    assert.ok(sessions.find(req({ cookie: cookieOf(b.id) })));
    sessions.end(b.id);
    assert.equal(sessions.find(req({ cookie: cookieOf(b.id) })), undefined);
    assert.equal(sessions.find(req({ cookie: 'volact_session=../../etc' })), undefined);
    assert.equal(sessions.find(req({})), undefined);
  });

  it('holds at most `max` sessions, dropping the oldest', () => {
    const sessions = new ConsoleSessions({ now: () => 0, max: 3 });
    const first = sessions.create(identity);
    for (let i = 0; i < 5; i++) sessions.create(identity);
    assert.equal(sessions.size, 3);
    assert.equal(sessions.find(req({ cookie: cookieOf(first.id) })), undefined);
  });

  it('makes an HttpOnly, SameSite=Strict cookie, Secure over TLS', () => {
    const s = new ConsoleSessions({ now: () => 0 }).create(identity);
    assert.match(sessionCookie(s, true), /^volact_session=[\w-]+; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    assert.doesNotMatch(sessionCookie(s, false), /Secure/);
  });
});

describe('checkConsoleWrite', () => {
  const s = new ConsoleSessions({ now: () => 0 }).create(identity);
  const ok = { host: 'console.example:1690', 'x-csrf-token': s.csrf };
  it('takes a same-origin change with the CSRF token', () => {
    assert.equal(
      codeOf(() => checkConsoleWrite(req(ok), s)),
      undefined,
    );
    assert.equal(
      codeOf(() =>
        checkConsoleWrite(req({ ...ok, origin: 'https://console.example:1690', 'sec-fetch-site': 'same-origin' }), s),
      ),
      undefined,
    );
  });
  it('refuses a change from another site, whatever it carries', () => {
    for (const extra of <Record<string, string>[]>[
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { origin: 'not a url' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ])
      assert.equal(
        codeOf(() => checkConsoleWrite(req({ ...ok, ...extra }), s)),
        'CROSS_SITE_REFUSED',
        JSON.stringify(extra),
      );
  });
  it('refuses a change without the right CSRF token', () => {
    assert.equal(
      codeOf(() => checkConsoleWrite(req({ host: ok.host }), s)),
      'CSRF_REFUSED',
    );
    assert.equal(
      codeOf(() => checkConsoleWrite(req({ ...ok, 'x-csrf-token': s.id }), s)),
      'CSRF_REFUSED',
    );
  });
});

describe('consoleStatic', () => {
  let dir: string;
  let base: string;
  let bare: string;
  const servers: ReturnType<typeof createServer>[] = [];
  const routes: string[] = [];
  const serve = async (d: string | undefined, prefix: string) => {
    const observe = (r: { route: string }) => void routes.push(r.route);
    const server = createServer(router({}, undefined, observe, consoleStatic(d, prefix)));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'volact-static-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    writeFileSync(join(dir, 'assets', 'app-1234.js'), 'console.log(1)');
    writeFileSync(join(dir, '..', 'volact-static-secret.txt'), 'TOP-SECRET-CONTENT');
    base = await serve(dir, '/console/');
    bare = await serve(join(dir, 'missing'), '/');
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(dir, '..', 'volact-static-secret.txt'), { force: true });
  });

  it('serves files with the CSP, index.html for page routes, never a file outside its directory', async () => {
    const page = await fetch(`${base}/console/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-security-policy')!, /script-src 'self'; style-src 'self'/);
    assert.equal(page.headers.get('x-frame-options'), 'DENY');
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(await page.text(), '<!doctype html><title>console</title>');
    const js = await fetch(`${base}/console/assets/app-1234.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(await js.text(), 'console.log(1)');
    assert.equal((await fetch(`${base}/console/assets/nope.js`)).status, 404);
    for (const path of [
      '/console/../volact-static-secret.txt',
      '/console/%2e%2e/volact-static-secret.txt',
      '/console/..%2fvolact-static-secret.txt',
    ]) {
      const text = await (await fetch(`${base}${path}`)).text();
      assert.doesNotMatch(text, /TOP-SECRET-CONTENT/, path);
    }
    const redirect = await fetch(`${base}/console`, { redirect: 'manual' });
    assert.equal(redirect.status, 302);
    assert.equal(redirect.headers.get('location'), '/console/');
    assert.equal((await fetch(`${base}/other`)).status, 404, 'outside the prefix: the router NOT_FOUND');
    assert.equal((await fetch(`${base}/console/`, { method: 'POST' })).status, 404);
  });

  it('reports a file it served as route static, and a path it did not take as unmatched (never the raw path)', async () => {
    routes.length = 0;
    await (await fetch(`${base}/console/assets/app-1234.js`)).text();
    await (await fetch(`${base}/elsewhere/secret-path`)).text();
    // the 'close' event follows the last byte
    const until = Date.now() + 5000;
    while (routes.length < 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(routes, ['static', 'unmatched']);
  });

  it('says the console is not built when its files are missing', async () => {
    const page = await fetch(`${bare}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /npm run build/);
  });
});
