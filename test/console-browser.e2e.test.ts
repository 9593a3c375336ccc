// The two consoles in a real browser against real servers (issue 15): a host with its console
// listener and an authority, on loopback. Log in (a wrong token is refused), see the count rise on
// the gauge and the chart as simulated machines activate, filter the machine list; approve an
// increase request and see the limit rise; confirm an installation ID on the public offline page
// and apply the confirmation ID with -atp; every page in Japanese and English with no serious axe
// violations (screenshots of each as artefacts); a cross-site form post is refused.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { tempDir, volact } from './harness/cli.js';
import { activationBody, post } from './harness/machines.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';
import { axe, browserUnavailable, screenshot, startBrowser, type TestBrowser } from './harness/browser.js';

const skip = browserUnavailable();

/** Each page of a console in both languages: Japanese text after the switch, axe, a screenshot. */
async function everyPage(page: Page, base: string, role: string, pages: [string, string, string][]) {
  for (const lang of ['en', 'ja'] as const) {
    await page.getByTestId(`lang-${lang}`).click();
    for (const [path, en, ja] of pages) {
      await page.goto(`${base}#/${path}`);
      await page.getByRole('heading', { level: 1, name: lang === 'ja' ? ja : en, exact: true }).waitFor();
      assert.equal(await page.locator('html').getAttribute('lang'), lang);
      await page.waitForLoadState('networkidle');
      const v = await axe(page);
      assert.deepEqual([...v.critical!, ...v.serious!], [], `${role} ${path} (${lang}): no serious axe violations`);
      await screenshot(page, `${role}-${path}`, lang);
    }
  }
}

/** Polls `read` until `ok` holds (the pages refresh themselves); its last value. */
async function until(read: () => Promise<string | null>, ok: (v: string) => boolean, what: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const v = (await read()) ?? '';
    if (ok(v)) return v;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: never reached (last ${await read()})`);
}

describe('the consoles in a real browser', { skip, timeout: 300_000 }, () => {
  const tmp = tempDir('volact-console-browser-');
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let b: TestBrowser;
  let evil: Server;
  let consolePort = 0;
  const hostDir = () => join(tmp.path, 'host');
  const tokens: Record<string, string> = {};

  before(async () => {
    world = await makeAuthority(tmp.path);
    authority = await world.serve();
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      extra: ['--console-listen', '127.0.0.1:0'],
    });
    consolePort = Number(
      await until(
        async () => /"console":"https:\/\/127\.0\.0\.1:(\d+)\//.exec(host.output())?.[1] ?? null,
        (v) => v !== '',
        'the console listener',
      ),
    );
    const key = await world.issueHostKey('server-2026');
    for (const args of [['-ipk', key], ['-ato']]) {
      const r = await volact(['slmgr', '--host', hostDir(), ...args]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    for (const scope of ['admin', 'read']) {
      const r = await volact([
        'host',
        'token',
        'create',
        '--state',
        hostDir(),
        '--name',
        `ops-${scope}`,
        '--scope',
        scope,
        '--json',
      ]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      tokens[`host-${scope}`] = r.json.token;
    }
    const r = await volact([
      'authority',
      'token',
      'create',
      '--dir',
      world.dir,
      '--name',
      'console',
      '--scope',
      'admin',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    tokens.authority = r.json.token;
    // a page on another origin that posts a form to the host console, as a cross-site attack would
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(
        `<form id="f" method="POST" action="https://127.0.0.1:${consolePort}/api/settings" enctype="text/plain">` +
          `<input name='{"retryMinutes":30,"x":"' value='"}'></form><script>document.getElementById('f').submit()</script>`,
      );
    });
    await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve));
    b = await startBrowser();
  });

  after(async () => {
    await b?.close();
    await new Promise((resolve) => (evil ? evil.close(resolve) : resolve(undefined)));
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('host: a wrong token is refused; the gauge and the chart follow the count; the machine list filters', async () => {
    const { page, context, problems } = await b.newPage({ locale: 'en-US' });
    try {
      const base = `https://127.0.0.1:${consolePort}/`;
      await page.goto(base);
      await page.getByTestId('token').fill(`vht_T0000000000_${'A'.repeat(32)}`);
      await page.getByTestId('login').click();
      assert.equal(await page.getByTestId('error').getAttribute('data-code'), 'TOKEN_INVALID');
      await page.getByTestId('token').fill(tokens['host-admin']!);
      await page.getByTestId('login').click();
      const gauge = page.getByTestId('gauge');
      await gauge.waitFor();
      const start = Number(await gauge.getAttribute('data-count'));
      const editions = ['desk-pro', 'server-standard'];
      for (let i = 0; i < 6; i++) {
        const body = activationBody(world.setupKeys[editions[i % 2]!]!, Date.now(), { vm: i % 3 === 0 });
        assert.equal((await post(host.port, '/v1/activate', JSON.stringify(body))).status, 200);
      }
      const want = String(start + 6);
      await until(
        () => gauge.getAttribute('data-count'),
        (v) => v === want,
        'the gauge',
      );
      await until(
        () => page.getByTestId('count-chart').getAttribute('data-last'),
        (v) => v === want,
        'the chart',
      );

      await page.getByTestId('nav-machines').click();
      await page.getByTestId('filter-kind').selectOption('server');
      await page.getByTestId('apply').click();
      const kinds = page.locator('[data-testid=machine-table] tbody tr td:nth-child(6)');
      await until(
        async () => (await kinds.allTextContents()).join(','),
        (v) => v === 'Server,Server,Server',
        'server rows',
      );
      await everyPage(page, base, 'host', [
        ['overview', 'Overview', '概要'],
        ['machines', 'Machines', 'コンピューター'],
        ['events', 'Events', 'イベント'],
        ['settings', 'Settings', '設定'],
      ]);
      assert.deepEqual(
        problems.errors.filter((e) => !/status of (400|401)/.test(e)),
        [],
        'no script errors or CSP violations',
      );
    } finally {
      await context.close();
    }
  });

  it('host: a cross-site form post is refused and changes nothing; a read token sees settings read-only', async () => {
    const { page, context } = await b.newPage();
    try {
      await page.goto(`https://127.0.0.1:${consolePort}/`);
      await page.getByTestId('token').fill(tokens['host-read']!);
      await page.getByTestId('login').click();
      await page.getByTestId('nav-settings').click();
      await page.getByTestId('read-only').waitFor();
      assert.equal(await page.getByTestId('save-settings').count(), 0);
      await page.goto(`https://127.0.0.1:${consolePort}/`);
      await page.getByTestId('logout').click();
      await page.getByTestId('token').fill(tokens['host-admin']!);
      await page.getByTestId('login').click();
      await page.getByTestId('gauge').waitFor();
      const address = evil.address() as { port: number };
      await page.goto(`http://127.0.0.1:${address.port}/`);
      await page.waitForURL(/\/api\/settings$/);
      const answer = JSON.parse((await page.locator('body').textContent()) ?? '{}');
      assert.ok(
        ['CROSS_SITE_REFUSED', 'TOKEN_MISSING', 'SESSION_EXPIRED'].includes(answer.code),
        JSON.stringify(answer),
      );
      const status = await volact(['slmgr', '--host', hostDir(), '-dlv', '--json']);
      assert.equal(status.json.retryMinutes, 120, 'the retry interval is still the default');
    } finally {
      await context.close();
    }
  });

  it('authority: approve an increase request and see the limit rise; every page in both languages', async () => {
    const { page, context } = await b.newPage({ locale: 'ja-JP' });
    try {
      const base = `http://127.0.0.1:${authority.port}/console/`;
      const mak = await volact([
        'authority',
        'issue-mak',
        '--dir',
        world.dir,
        '--edition',
        'desk-pro',
        '--activations',
        '5',
        '--json',
      ]);
      assert.equal(mak.code, 0, mak.stdout + mak.stderr);
      const filed = await post(
        authority.port,
        '/v1/increase-requests',
        JSON.stringify({ v: 1, key: mak.json.key, what: 'activations', amount: 3, reason: 'more desks' }),
      );
      assert.equal(filed.status, 201);
      await page.goto(base);
      await page.getByTestId('token').fill(tokens.authority!);
      await page.getByTestId('login').click();
      await page.getByTestId('nav-requests').click();
      const form = page.getByTestId(`decide-${(filed.body as { id: string }).id}`);
      await form.getByTestId('amount').fill('2');
      await form.getByTestId('approve').click();
      await until(
        () => page.getByTestId('status').textContent(),
        (v) => v.includes('承認しました'),
        'approved',
      );
      await page.getByTestId('nav-keys').click();
      const row = page.locator('[data-testid=maks] tbody tr', { hasText: mak.json.id as string });
      await until(
        () => row.textContent(),
        (v) => v.includes('7 中 0 使用'),
        'the MAK limit 5 + 2',
      );
      await everyPage(page, base, 'authority', [
        ['catalog', 'Catalog', 'カタログ'],
        ['keys', 'Keys', 'キー'],
        ['requests', 'Increase requests', '増加要求'],
        ['offline', 'Offline activation', 'オフライン ライセンス認証'],
        ['audit', 'Audit log', '監査ログ'],
        ['tokens', 'Tokens', 'トークン'],
      ]);
    } finally {
      await context.close();
    }
  });

  it('authority: the public offline page confirms an installation ID that the client then applies with -atp', async () => {
    const bundle = join(tmp.path, 'offline.json');
    assert.equal((await volact(['authority', 'offline-bundle', '--dir', world.dir, '--out', bundle])).code, 0);
    const mak = await volact([
      'authority',
      'issue-mak',
      '--dir',
      world.dir,
      '--edition',
      'desk-pro',
      '--activations',
      '1',
      '--json',
    ]);
    const pc = join(tmp.path, 'pc-offline');
    for (const args of [
      ['client', 'trust', bundle, '--state', pc],
      ['slmgr', '--state', pc, '-ipk', mak.json.key as string],
    ]) {
      const r = await volact(args);
      assert.equal(r.code, 0, r.stdout + r.stderr);
    }
    const dti = await volact(['slmgr', '--state', pc, '-dti', '--json']);
    const { page, context } = await b.newPage();
    try {
      await page.goto(`http://127.0.0.1:${authority.port}/console/#/offline`);
      await page.getByTestId('iid').fill((dti.json.installationId as string).toLowerCase().replace(/-/g, ' '));
      await page.getByTestId('get-cid').click();
      await page.getByTestId('qr').waitFor();
      const cid = (await page.getByTestId('cid').getAttribute('data-cid'))!;
      const atp = await volact(['slmgr', '--state', pc, '-atp', cid]);
      assert.equal(atp.code, 0, atp.stdout + atp.stderr);
      await screenshot(page, 'authority-offline-confirmed', 'en');
    } finally {
      await context.close();
    }
  });
});
