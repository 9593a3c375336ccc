// The built consoles in a real browser (chromium via playwright-core), served by the same
// consoleStatic and CSP the host and the authority use, without a server behind them: the host's
// login page and the authority's public offline page in English and in Japanese (the switch, and
// the browser's language), axe-core with no serious or critical violations, no console errors or
// CSP violations, and screenshots as test artefacts.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { consoleStatic } from '@volact/io';
import { VolactError, errorBody } from '@volact/protocol';
import { axe, browserUnavailable, screenshot, startBrowser, type TestBrowser } from './harness/browser.js';

const require = createRequire(import.meta.url);
const dist = join(dirname(require.resolve('@volact/console/package.json')), 'dist');
const skip = browserUnavailable();

/** A stand-in for a host's console listener: the built files, and no session (401). */
async function serve(): Promise<{ server: Server; url: string }> {
  const host = consoleStatic(join(dist, 'host'), '/');
  const authority = consoleStatic(join(dist, 'authority'), '/console/');
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/v1/')) {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody(new VolactError('SESSION_EXPIRED'))));
      return;
    }
    if (!authority(req, res, url) && !host(req, res, url)) {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/` };
}

/** Errors other than the expected 401 of the session probe (the page asks whether a session exists). */
function unexpected(errors: string[]): string[] {
  return errors.filter((e) => !/status of 401.*\/(api|v1\/console)\/session\)$/.test(e));
}

describe('the built consoles in a real browser', { skip }, () => {
  let b: TestBrowser;
  let site: { server: Server; url: string };
  before(async () => {
    site = await serve();
    b = await startBrowser();
  });
  after(async () => {
    await b?.close();
    await new Promise((resolve) => site?.server.close(resolve));
  });

  test('English by default, Japanese after the switch: no serious violations, no CSP errors', async () => {
    const { page, context, problems } = await b.newPage({ locale: 'en-US' });
    try {
      const answer = await page.goto(`${site.url}#/overview`);
      assert.match(answer?.headers()['content-security-policy'] ?? '', /script-src 'self'; style-src 'self'/);
      await page.getByTestId('login-form').waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Log in');
      assert.equal(await page.getByLabel('Token').count(), 1, 'the token field has a label');
      const en = await axe(page);
      assert.deepEqual([...en.critical!, ...en.serious!], [], 'no critical or serious axe violations (en)');
      await screenshot(page, 'host-login', 'en');

      await page.getByTestId('lang-ja').click();
      await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
      assert.equal(await page.getByLabel('トークン').count(), 1);
      assert.equal(await page.getByTestId('lang-ja').getAttribute('aria-pressed'), 'true');
      const ja = await axe(page);
      assert.deepEqual([...ja.critical!, ...ja.serious!], [], 'no critical or serious axe violations (ja)');
      await screenshot(page, 'host-login', 'ja');
      assert.deepEqual(unexpected(problems.errors), []);
    } finally {
      await context.close();
    }
  });

  test('a Japanese browser gets Japanese first; the keyboard reaches the skip link, the switch and the form', async () => {
    const { page, context, problems } = await b.newPage({ locale: 'ja-JP' });
    try {
      await page.goto(site.url);
      await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), 'ja');
      const reached: string[] = [];
      for (let i = 0; i < 6; i++) {
        await page.keyboard.press('Tab');
        reached.push(await page.evaluate<string>("document.activeElement?.getAttribute('data-testid') ?? ''"));
      }
      for (const want of ['skip', 'lang-ja', 'lang-en', 'token', 'login'])
        assert.ok(reached.includes(want), `Tab reaches ${want} (reached ${reached.join(', ')})`);
      await page.getByTestId('token').fill('vht_T0000000000_wrong');
      await page.getByTestId('login').click();
      const error = page.getByTestId('error');
      await error.waitFor();
      assert.equal(await error.getAttribute('data-code'), 'SESSION_EXPIRED');
      assert.match((await error.textContent()) ?? '', /対処/, 'the fix is shown, in Japanese');
      assert.equal(
        await page.getByTestId('token').inputValue(),
        'vht_T0000000000_wrong',
        'kept for a retry after an error',
      );
      const stored = await page.evaluate<number>(
        'localStorage.length + sessionStorage.length + document.cookie.length',
      );
      assert.equal(stored, 0, 'nothing in localStorage, sessionStorage or script-readable cookies');
      assert.deepEqual(unexpected(problems.errors), []);
    } finally {
      await context.close();
    }
  });

  test('the authority console: its offline activation page works without login, in both languages', async () => {
    const { page, context, problems } = await b.newPage({ locale: 'en-US' });
    try {
      await page.goto(`${site.url}console/#/offline`);
      await page.getByTestId('offline-form').waitFor();
      assert.equal(await page.getByRole('textbox', { name: 'Installation ID' }).count(), 1, 'the field has a label');
      assert.equal(await page.getByTestId('login-link').count(), 1, 'a way to log in from the public page');
      const en = await axe(page);
      assert.deepEqual([...en.critical!, ...en.serious!], []);
      await screenshot(page, 'authority-offline', 'en');
      await page.getByTestId('lang-ja').click();
      await page.getByRole('heading', { level: 1, name: 'オフライン ライセンス認証' }).waitFor();
      const ja = await axe(page);
      assert.deepEqual([...ja.critical!, ...ja.serious!], []);
      await screenshot(page, 'authority-offline', 'ja');
      await page.getByTestId('login-link').click();
      await page.getByRole('heading', { level: 1, name: 'ログイン' }).waitFor();
      await screenshot(page, 'authority-login', 'ja');
      assert.deepEqual(unexpected(problems.errors), []);
    } finally {
      await context.close();
    }
  });

  test('both builds: the right base, no inline script or style, no Node module, nothing from elsewhere', async () => {
    for (const part of ['host', 'authority']) {
      const html = readFileSync(join(dist, part, 'index.html'), 'utf8');
      assert.doesNotMatch(html, /<script(?![^>]*\bsrc=)[^>]*>/, `${part}: no inline <script>`);
      assert.doesNotMatch(html, /<style|\sstyle=/, `${part}: no inline style`);
      assert.match(html, new RegExp(`src="${part === 'host' ? '/' : '/console/'}assets/`));
      assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, `${part}: nothing loaded from another site`);
      for (const name of readdirSync(join(dist, part, 'assets')).filter((n) => n.endsWith('.js'))) {
        const js = readFileSync(join(dist, part, 'assets', name), 'utf8');
        assert.doesNotMatch(js, /(from|import\()\s*["']node:/, `${part}/${name}: no Node module in the bundle`);
      }
    }
  });
});
