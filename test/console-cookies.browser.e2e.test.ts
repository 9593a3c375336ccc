// Both consoles in one browser, as `volact demo` opens them: the authority's on
// http://127.0.0.1:PORT/console/ and the host's on https://127.0.0.1:PORT/. Cookies are not kept
// apart by port, so each console needs a cookie name of its own: with one name, logging in to
// one console logged the browser out of the other (or, the host's Secure cookie set first, kept
// the authority's login from setting its cookie at all).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir, volact } from './harness/cli.js';
import { browserUnavailable, startBrowser, type TestBrowser } from './harness/browser.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const skip = browserUnavailable();

async function consoleUrl(service: Service): Promise<string> {
  for (let i = 0; i < 50; i++) {
    const m = /"console":"(https:\/\/127\.0\.0\.1:\d+\/)"/.exec(service.output());
    if (m) return m[1]!;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no console in:\n${service.output()}`);
}

/** A call from the page itself, as the console's own code makes it (same origin, cookies). */
function call(page: Page, method: string, path: string, body?: unknown): Promise<{ status: number; code?: string }> {
  return page.evaluate(
    async ([m, p, b]) => {
      const res = await fetch(p as string, {
        method: m as string,
        credentials: 'same-origin',
        headers: b === undefined ? {} : { 'content-type': 'application/json' },
        body: b === undefined ? undefined : JSON.stringify(b),
      });
      const json = (await res.json().catch(() => ({}))) as { code?: string };
      return { status: res.status, code: json.code };
    },
    [method, path, body] as const,
  );
}

describe('the two consoles in one browser on one address', { timeout: 120_000, skip }, () => {
  const tmp = tempDir('volact-console-cookies-');
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let browser: TestBrowser;
  let hostUrl = '';
  let authorityToken = '';
  let hostToken = '';

  before(async () => {
    world = await makeAuthority(tmp.path);
    const a = await volact([
      'authority',
      'token',
      'create',
      '--dir',
      world.dir,
      '--name',
      'ops',
      '--scope',
      'read',
      '--json',
    ]);
    assert.equal(a.code, 0, a.stderr);
    authorityToken = a.json.token;
    authority = await world.serve();
    const dir = `${tmp.path}/host`;
    host = await startHost(dir, {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      extra: ['--console-listen', '127.0.0.1:0'],
    });
    hostUrl = await consoleUrl(host);
    const h = await volact(['host', 'token', 'create', '--state', dir, '--name', 'ops', '--json']);
    assert.equal(h.code, 0, h.stderr);
    hostToken = h.json.token;
    browser = await startBrowser();
  });

  after(async () => {
    await browser?.close();
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  for (const first of ['authority', 'host'] as const) {
    it(`keeps both logins, the ${first} console logged in first`, async () => {
      const { page: authorityPage, context } = await browser.newPage();
      const hostPage = await context.newPage();
      await authorityPage.goto(`http://127.0.0.1:${authority.port}/console/`);
      await hostPage.goto(hostUrl);
      const logIn = {
        authority: () => call(authorityPage, 'POST', '/v1/console/session', { token: authorityToken }),
        host: () => call(hostPage, 'POST', '/api/session', { token: hostToken }),
      };
      const second = first === 'authority' ? 'host' : 'authority';
      assert.equal((await logIn[first]()).status, 201);
      assert.equal((await logIn[second]()).status, 201);
      assert.deepEqual(await call(authorityPage, 'GET', '/v1/admin/host-keys').then((r) => r.status), 200);
      assert.deepEqual(await call(hostPage, 'GET', '/api/overview').then((r) => r.status), 200);
      await context.close();
    });
  }

  it("marks the overview's timed refresh (X-Console-Refresh), so an open console still goes idle", async () => {
    const { page, context } = await browser.newPage();
    await page.goto(hostUrl);
    assert.equal((await call(page, 'POST', '/api/session', { token: hostToken })).status, 201);
    const firstLoad = page.waitForRequest((r) => r.url().endsWith('/api/overview'));
    await page.reload(); // the page finds the session and opens the overview
    assert.equal((await firstLoad).headers()['x-console-refresh'], undefined, 'opening it is use');
    // the page may load the overview again as it settles (not timed, so not marked); within the
    // refresh period a timed load must come, marked
    const timed = await page.waitForRequest(
      (r) => r.url().endsWith('/api/overview') && r.headers()['x-console-refresh'] === 'timer',
      { timeout: 15_000 },
    );
    assert.equal(timed.method(), 'GET');
    await context.close();
  });
});
