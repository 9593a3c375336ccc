// The host console in chromium against a real authority and host on loopback (issue 15): a
// wrong token refused; a read token sees the gauge and chart follow the count, filters, sorts and
// pages the machines (a clone flagged), filters the events, sees read-only settings; an admin
// token saves a renewal interval, is told why an out-of-range one is refused, verifies the log;
// every page in both languages: Japanese only, axe, Tab reaches every control, screenshots; a
// cross-site form post and fetch change nothing.
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttp, type Server } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { translateError } from '@volact/protocol/messages';
import type { Page } from 'playwright-core';
import { tempDir, volact } from './harness/cli.js';
import { activationBody, post } from './harness/machines.js';
import { axe, browserUnavailable, screenshot, startBrowser, type TestBrowser } from './harness/browser.js';
import {
  consoleApi,
  englishLeft,
  keyboardReach,
  msg,
  startHostConsole,
  until,
  type HostConsoleWorld,
} from './harness/console-world.js';

const skip = browserUnavailable();
type Lang = 'en' | 'ja';
const PAGES = [
  ['overview', 'console.page.overview'],
  ['machines', 'console.page.machines'],
  ['events', 'console.page.events'],
  ['settings', 'console.page.settings'],
] as const;

/** The texts of column `col` (1-based) of a table's rows. */
async function column(page: Page, table: string, col: number): Promise<string[]> {
  return page.locator(`[data-testid=${table}] tbody tr td:nth-child(${col})`).allTextContents();
}

/** Everything a page must pass in a language: its words, axe, the keyboard; then a screenshot. */
async function checkPage(page: Page, name: string, heading: string, lang: Lang, navigation: boolean) {
  await page.getByRole('heading', { level: 1, name: heading, exact: true }).waitFor();
  assert.equal(await page.locator('html').getAttribute('lang'), lang);
  await page.waitForLoadState('networkidle');
  if (navigation)
    assert.deepEqual(
      await page.locator('nav a').allTextContents(),
      PAGES.map(([, id]) => msg(id, lang)),
      `${name} (${lang}): the navigation`,
    );
  // the check sees the English of the page before the switch, and none of it after
  const english = await englishLeft(page);
  if (lang === 'ja') assert.deepEqual(english, [], `${name}: no English left after the switch`);
  else assert.ok(english.length >= 2, `${name}: the check finds the English words (${english})`);
  const v = await axe(page);
  assert.deepEqual([...v.critical!, ...v.serious!], [], `${name} (${lang}): no serious axe violations`);
  const reach = await keyboardReach(page);
  assert.deepEqual(reach.missed, [], `${name} (${lang}): Tab reaches every control (reached ${reach.reached})`);
  assert.deepEqual(reach.noRing, [], `${name} (${lang}): the focus is visible (${reach.expected})`);
  assert.ok(reach.expected.length >= 3, `${name}: controls found`);
  await screenshot(page, `host-console-${name}`, lang);
}

describe('the host console in a real browser', { skip, timeout: 180_000 }, () => {
  const tmp = tempDir('volact-host-browser-');
  let w: HostConsoleWorld;
  let b: TestBrowser;
  let page: Page;
  const evil: Server[] = [];
  const errors: string[] = [];
  const clone = randomUUID();
  const names: string[] = [];

  const activate = async (edition: string, name: string, extra: Record<string, unknown> = {}) => {
    const body = activationBody(w.world.setupKeys[edition]!, Date.now(), { machineName: name, ...extra });
    const r = await post(w.host.port, '/v1/activate', JSON.stringify(body));
    assert.equal(r.status, 200, JSON.stringify(r.body));
    names.push(name);
  };
  const logIn = async (token: string) => {
    await page.getByTestId('token').fill(token);
    await page.getByTestId('login').click();
    await page.getByTestId('logout').waitFor();
  };
  const go = async (path: string) => {
    await page.getByTestId(`nav-${path}`).click();
    await page.waitForFunction(`location.hash === '#/${path}'`);
  };
  const renewal = async () => (await volact(['slmgr', '--host', w.hostDir, '-dlv', '--json'])).json.renewalMinutes;

  before(async () => {
    w = await startHostConsole(tmp.path);
    b = await startBrowser();
    const opened = await b.newPage({ locale: 'en-US' });
    page = opened.page;
    opened.problems.errors = errors;
  });

  after(async () => {
    await b?.close();
    for (const s of evil) await new Promise((resolve) => s.close(resolve));
    await w?.stop();
    tmp.cleanup();
  });

  it('refuses a wrong token with its message and fix, in English and in Japanese; the login page passes', async () => {
    await page.goto(`${w.base}#/overview`);
    for (const lang of ['en', 'ja'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      await checkPage(page, 'login', msg('console.loginTitle', lang), lang, false);
    }
    await page.getByTestId('token').fill(`vht_T0123456789_${'A'.repeat(32)}`);
    await page.getByTestId('login').click();
    const error = page.getByTestId('error');
    await error.waitFor();
    assert.equal(await error.getAttribute('data-code'), 'TOKEN_INVALID');
    const ja = translateError({ code: 'TOKEN_INVALID', params: {} }, 'ja');
    assert.match((await error.textContent())!, new RegExp(`${ja.message.slice(0, 12)}.*対処`));
    await screenshot(page, 'host-console-login-refused', 'ja');
    await page.getByTestId('lang-en').click();
    const en = translateError({ code: 'TOKEN_INVALID', params: {} }, 'en');
    assert.ok((await error.textContent())!.includes(en.fix), 'the fix, in English after the switch');
    assert.match(en.fix, /volact host token create/, 'the fix names the host command');
    assert.equal(await page.getByTestId('logout').count(), 0, 'not logged in');
  });

  it('read token: the gauge starts at 0 and passes the server threshold as 6 servers activate; the chart follows', async () => {
    await logIn(w.tokens.read);
    assert.match((await page.getByTestId('who').textContent())!, /ops-read \(read\)/);
    const gauge = page.getByTestId('gauge');
    await gauge.waitFor();
    assert.equal(await gauge.getAttribute('data-count'), '0');
    assert.equal(await page.getByTestId('gauge-count').textContent(), '0');
    assert.equal(await gauge.locator('path').count(), 1, 'no filled arc at 0');
    for (let i = 0; i < 6; i++) await activate('server-standard', `srv-${i}`, { vm: i % 2 === 0 });
    await until(
      () => gauge.getAttribute('data-count'),
      (v) => v === '6',
      'the gauge at 6',
    );
    assert.equal(await page.getByTestId('gauge-count').textContent(), '6');
    assert.match((await gauge.locator('svg').getAttribute('aria-label'))!, /^Count 6: clients need 25, servers need 5/);
    // past the server threshold (5) and below the client one (25): the filled arc turns amber
    assert.equal(await gauge.locator('path').nth(1).getAttribute('stroke'), '#8a4b00');
    await until(
      () => page.getByTestId('count-chart').getAttribute('data-last'),
      (v) => v === '6',
      'the chart',
    );
    assert.match((await page.getByTestId('chart-last').textContent())!, /6/);
    // servers 1 to 4 came below the threshold (grace), 5 and 6 were activated: the tiles say so
    const tile = (id: string) => page.locator(`[data-testid=tile-${id}] dd`).textContent();
    await until(
      async () => `${await tile('licensed')}/${await tile('grace')}`,
      (v) => v === '2/4',
      'the tiles',
    );
  });

  it('machines: search, filters, sort, pages of 50, and a machine seen with two fingerprints flagged', async () => {
    for (let i = 0; i < 50; i++) await activate('desk-pro', `pc-${String(i).padStart(2, '0')}`, { vm: i % 5 === 0 });
    const fingerprint = () => randomBytes(32).toString('base64url');
    await activate('desk-pro', 'clone-1', { machineId: clone, fingerprintHash: fingerprint() });
    await activate('desk-pro', 'clone-1', { machineId: clone, fingerprintHash: fingerprint() });
    await go('machines');
    await page.getByTestId('machine-table').waitFor(); // the first page is in: no other load runs
    // applies a filter and waits for its answer to show; the names of the rows
    const filter = async (fields: Record<string, string | boolean>) => {
      await page.evaluate(`document.querySelector('[data-testid=machine-filters]').reset()`);
      for (const [id, value] of Object.entries(fields)) {
        const field = page.getByTestId(`filter-${id}`);
        if (value === true) await field.check();
        else if (['state', 'kind', 'vm', 'sort', 'order'].includes(id)) await field.selectOption(String(value));
        else await field.fill(String(value));
      }
      return shown(() => page.getByTestId('apply').click());
    };
    const shown = async (act: () => Promise<void>) => {
      const answer = page.waitForResponse((r) => r.url().includes('/api/machines?'));
      await act();
      const want = ((await (await answer).json()).machines as { machineName: string }[]).map((m) => m.machineName);
      return until(
        () => column(page, 'machine-table', 2),
        (n) => n.join() === (want.length ? want : [msg('common.noRows', 'en')]).join(),
        `the rows of ${page.url()}`,
      );
    };
    const caption = () => page.locator('[data-testid=machine-table] caption').textContent();

    const servers = await filter({ kind: 'server' });
    assert.deepEqual(servers.sort(), names.filter((n) => n.startsWith('srv-')).sort());
    assert.deepEqual(new Set(await column(page, 'machine-table', 6)), new Set(['Server']));
    const vmServers = await filter({ edition: '201', vm: 'true' });
    assert.deepEqual(vmServers.sort(), ['srv-0', 'srv-2', 'srv-4']);
    assert.deepEqual(new Set(await column(page, 'machine-table', 5)), new Set(['Contoso Server 2026 Standard']));
    assert.deepEqual(new Set(await column(page, 'machine-table', 7)), new Set(['yes']));
    for (const state of ['grace', 'licensed'] as const) {
      const api = await consoleApi(w.consolePort, w.tokens.read, `/api/machines?state=${state}&limit=200`);
      const want = api.body.machines.map((m: { machineName: string }) => m.machineName).sort();
      assert.ok(want.length > 0, `some machines are ${state}`);
      const got = await filter({ state });
      assert.deepEqual(got.sort(), want);
      const label = msg(state === 'grace' ? 'console.ov.grace' : 'state.licensed', 'en');
      assert.deepEqual(new Set(await column(page, 'machine-table', 3)), new Set([label]));
    }
    assert.deepEqual(await filter({ q: 'srv-3' }), ['srv-3']);
    assert.deepEqual(await filter({ several: true }), ['clone-1']);
    assert.equal(
      await page.getByTestId('several-fingerprints').textContent(),
      msg('console.m.severalFlag', 'en'),
      'the cloned machine is flagged',
    );
    assert.deepEqual(await column(page, 'machine-table', 11), ['2']);
    assert.match((await column(page, 'machine-table', 1))[0]!, new RegExp(`^${clone}`));

    // 57 machines by name: page 1 holds 50, page 2 the last 7; previous brings page 1 back
    const sorted = [...new Set(names)].sort();
    assert.equal(sorted.length, 57);
    const first = await filter({ sort: 'name', order: 'asc' });
    assert.deepEqual(first, sorted.slice(0, 50));
    assert.equal(await caption(), 'Machines — Page 1 (57 in all)');
    assert.equal(await page.getByTestId('previous').isDisabled(), true);
    const second = await shown(() => page.getByTestId('next').click());
    assert.deepEqual(second, sorted.slice(50));
    assert.equal(await caption(), 'Machines — Page 2 (57 in all)');
    assert.equal(await page.getByTestId('next').isDisabled(), true);
    assert.deepEqual(await shown(() => page.getByTestId('previous').click()), sorted.slice(0, 50));
    const desc = await filter({ sort: 'name', order: 'desc' });
    assert.deepEqual(desc, [...sorted].reverse().slice(0, 50));
  });

  it('events: filtered by outcome and by machine', async () => {
    await go('events');
    const api = await consoleApi(w.consolePort, w.tokens.read, '/api/events?outcome=countInsufficient&limit=1000');
    const low = api.body.events.length;
    assert.ok(low >= 4, 'servers 1 to 4 and the first clients were refused for a low count');
    await page.getByTestId('filter-outcome').selectOption('countInsufficient');
    await page.getByTestId('apply').click();
    const outcomes = await until(
      () => column(page, 'event-table', 7),
      (v) => v.length === low,
      'by outcome',
    );
    assert.deepEqual(new Set(outcomes), new Set([msg('console.outcome.countInsufficient', 'en')]));
    await page.getByTestId('filter-outcome').selectOption('');
    await page.getByTestId('filter-machine').fill(clone);
    await page.getByTestId('apply').click();
    const ids = await until(
      () => column(page, 'event-table', 3),
      (v) => v.length === 2,
      'by machine',
    );
    assert.deepEqual(ids, [clone, clone]);
  });

  it('settings: read-only for the read token', async () => {
    await go('settings');
    await page.getByTestId('read-only').waitFor();
    assert.equal(
      await page.getByTestId('read-only').textContent(),
      msg('console.readOnly', 'en').replace('{scope}', 'admin'),
    );
    assert.equal(await page.getByTestId('save-settings').count(), 0);
    assert.equal(await page.getByTestId('save-dns').count(), 0);
    assert.equal(await page.getByTestId('setting-renewalMinutes').getAttribute('readonly'), '');
    assert.equal(await page.getByTestId('setting-renewalMinutes').inputValue(), String(await renewal()));
    assert.equal(await page.getByTestId('setting-dns').isDisabled(), true);
  });

  it('every page in English and in Japanese: its words, axe, the keyboard, a screenshot', async () => {
    for (const lang of ['en', 'ja'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      for (const [path, id] of PAGES) {
        await go(path);
        await checkPage(page, path, msg(id, lang), lang, true);
      }
    }
    await page.getByTestId('lang-en').click();
  });

  it('logout; admin token: the renewal interval saved, an out-of-range one refused as slmgr refuses it; verify now', async () => {
    await page.getByTestId('logout').click();
    await page.getByTestId('login-form').waitFor();
    const session = await page.evaluate<number>(`fetch('/api/session').then((r) => r.status)`);
    assert.equal(session, 401, 'the session ended on the server');
    await logIn(w.tokens.admin);
    await go('settings');
    const field = page.getByTestId('setting-renewalMinutes');
    await field.fill('4320');
    await page.getByTestId('save-settings').click();
    await until(
      () => page.getByTestId('status').textContent(),
      (v) => v === msg('console.set.saved', 'en'),
      'saved',
    );
    assert.equal(await renewal(), 4320, 'slmgr -dlv shows the new renewal interval');

    const cli = await volact(['slmgr', '--host', w.hostDir, '-sri', '5']);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stdout + cli.stderr, /VALUE_OUT_OF_RANGE/);
    for (const lang of ['en', 'ja'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      await page.getByTestId('setting-renewalMinutes').fill('5');
      await page.getByTestId('save-settings').click();
      const error = page.getByTestId('error');
      await error.waitFor();
      assert.equal(await error.getAttribute('data-code'), 'VALUE_OUT_OF_RANGE');
      const text = (await error.textContent())!;
      const want = translateError({ code: 'VALUE_OUT_OF_RANGE', params: {} }, lang);
      assert.ok(text.includes(want.fix), `${lang}: the fix (${text})`);
      assert.match(text, lang === 'en' ? /between 15 and 43200; got 5/ : /15 から 43200 の範囲.*指定値: 5/);
      assert.equal(await page.getByTestId('status').textContent(), '', 'no "saved" beside the refusal');
      if (lang === 'ja') assert.deepEqual(await englishLeft(page), [], 'the admin settings page, in Japanese');
      await screenshot(page, 'host-console-settings-refused', lang);
    }
    await page.getByTestId('lang-en').click();
    assert.equal(await renewal(), 4320, 'unchanged by the refused value');
    await go('events');
    const log = page.getByTestId('log-state');
    const checked = () => log.locator('p').nth(1).textContent();
    const before = await until(checked, (v) => /records/.test(v ?? ''), 'a first verification');
    await page.getByTestId('verify-now').click();
    await until(
      () => page.getByTestId('status').textContent(),
      (v) => v === msg('console.log.started', 'en'),
      'started',
    );
    // the new run counts the records the activations added
    await until(checked, (v) => v !== before && /records/.test(v ?? ''), 'a new verification');
    assert.equal(await log.getAttribute('data-state'), 'verified');
    assert.equal(await log.locator('strong').textContent(), msg('console.log.verified', 'en'));
    // the admin's pages have more controls (save, verify now): the same checks in both languages
    for (const lang of ['en', 'ja'] as const) {
      await page.getByTestId(`lang-${lang}`).click();
      for (const path of ['events', 'settings'] as const) {
        await go(path);
        await checkPage(page, `${path}-admin`, msg(`console.page.${path}`, lang), lang, true);
      }
    }
    await page.getByTestId('lang-en').click();
  });

  it('a cross-site form post and a cross-origin fetch are refused and change nothing', async () => {
    const target = `${w.base}api/settings`;
    const form =
      `<form id="f" method="POST" action="${target}" enctype="text/plain">` +
      `<input name='{"renewalMinutes":20,"x":"' value='"}'></form>` +
      `<script src="/go.js"></script>`;
    const serve = (req: { url?: string }, res: import('node:http').ServerResponse) => {
      res.writeHead(200, { 'content-type': req.url === '/go.js' ? 'text/javascript' : 'text/html' });
      res.end(req.url === '/go.js' ? `document.getElementById('f').submit()` : req.url === '/' ? form : '<p>idle</p>');
    };
    // another site (127.0.0.2), and the same site on another port (the cookie is sent there)
    const cert = {
      cert: readFileSync(join(w.hostDir, 'console.crt')),
      key: readFileSync(join(w.hostDir, 'console.key')),
    };
    const other = createHttp(serve);
    const sameSite = createHttps(cert, serve);
    evil.push(other, sameSite);
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.2', resolve));
    await new Promise<void>((resolve) => sameSite.listen(0, '127.0.0.1', resolve));
    const origins = [
      `http://127.0.0.2:${(other.address() as { port: number }).port}`,
      `https://127.0.0.1:${(sameSite.address() as { port: number }).port}`,
    ];
    await page.goto(`${w.base}#/overview`);
    await page.getByTestId('gauge').waitFor(); // logged in as admin
    for (const origin of origins) {
      const answer = page.waitForResponse((r) => r.url() === target);
      await page.goto(`${origin}/`);
      const response = await answer;
      const body = await response.json();
      assert.ok(response.status() >= 400 && response.status() < 500, `${origin}: refused (${response.status()})`);
      assert.ok(['CROSS_SITE_REFUSED', 'CSRF_REFUSED', 'TOKEN_MISSING'].includes(body.code), JSON.stringify(body));
      if (origin.startsWith('https'))
        assert.equal(body.code, 'CROSS_SITE_REFUSED', 'the cookie came, the origin did not');
      await page.goto(`${origin}/idle`);
      const fetched = await page.evaluate<string>(
        `fetch(${JSON.stringify(target)}, { method: 'POST', credentials: 'include', ` +
          `headers: { 'content-type': 'application/json' }, body: '{"renewalMinutes":30}' })` +
          `.then((r) => 'answered ' + r.status, (e) => 'failed ' + e.name)`,
      );
      assert.equal(fetched, 'failed TypeError', `${origin}: a cross-origin fetch gets nothing`);
      const read = await page.evaluate<string>(
        `fetch(${JSON.stringify(`${w.base}api/status`)}, { credentials: 'include' })` +
          `.then((r) => 'answered ' + r.status, (e) => 'failed ' + e.name)`,
      );
      assert.equal(read, 'failed TypeError', `${origin}: the status cannot be read from another origin`);
    }
    assert.equal(await renewal(), 4320, 'the renewal interval is unchanged');
    const status = await consoleApi(w.consolePort, w.tokens.admin, '/api/status');
    assert.equal(status.body.renewalMinutes, 4320);
    assert.deepEqual(
      errors.filter((e) => !/status of (400|401|403)|net::ERR_FAILED|CORS|Access-Control/.test(e)),
      [],
      'no script errors or CSP violations on the console',
    );
  });
});
