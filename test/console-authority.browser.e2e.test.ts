// The authority console in a real browser against a real authority on loopback (issue 15): a wrong
// token refused; the catalog, the keys (masked, used and left), a host key's hosts and a slot
// released with a confirm step; increase requests approved (the limit rises) and rejected with a
// note; offline activation without login (the confirmation ID applied with -atp) and in bulk from
// a file; the audit log; tokens created and revoked; a read token's read-only pages; every page in
// Japanese and English with no serious axe violation, reached by the keyboard, as screenshots; a
// cross-site form post and a cross-origin fetch refused; logout.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { catalogs, type MessageId } from '@volact/protocol/messages';
import { tempDir } from './harness/cli.js';
import { browserUnavailable, englishLeft, screenshot, startBrowser, type TestBrowser } from './harness/browser.js';
import {
  loggedIn,
  makeConsoleAuthorityWorld,
  accessible,
  crossOriginFetches,
  open,
  otherOrigin,
  resultRows,
  row,
  rowText,
  said,
  type ConsoleAuthorityWorld,
} from './harness/console-authority-world.js';

const skip = browserUnavailable();
const en = (id: MessageId) => catalogs.en.messages[id]!;
const ja = (id: MessageId) => catalogs.ja.messages[id]!;
const pages = ['catalog', 'keys', 'requests', 'offline', 'audit', 'tokens'] as const;
/** What shows that a page has its data (a hash change loads nothing, so waiting for the network does not tell). */
const loaded: Record<(typeof pages)[number], string[]> = {
  catalog: ['[data-testid=editions] tbody tr'],
  keys: ['[data-testid=host-keys] tbody tr', '[data-testid=maks] tbody tr'],
  requests: ['[data-testid=request-table] tbody tr'],
  offline: ['[data-testid=bulk-file]'],
  audit: ['[data-testid=audit-table] tbody tr'],
  tokens: ['[data-testid=token-table] tbody tr'],
};
const titleOf = (p: string) => `console.page.${p}` as MessageId;
const wait = { timeout: 10_000 };

describe('the authority console in a real browser', { skip, timeout: 120_000 }, () => {
  const tmp = tempDir('volact-console-auth-browser-');
  let w: ConsoleAuthorityWorld;
  let b: TestBrowser;
  let evil: { origin: string; close: () => Promise<void> };
  let foreign: { origin: string; close: () => Promise<void> };
  const attackBody = () => JSON.stringify({ v: 1, id: w.requests.attack, decision: 'approve', amount: 99, x: '' });

  before(async () => {
    [w, b] = await Promise.all([makeConsoleAuthorityWorld(tmp.path, 3), startBrowser()]);
    const target = `http://127.0.0.1:${w.authority.port}/v1/admin/requests/decide`;
    evil = await otherOrigin(target, attackBody());
    foreign = await otherOrigin(target, attackBody(), '127.0.0.2');
  });

  after(async () => {
    await b?.close();
    await evil?.close();
    await foreign?.close();
    await w?.authority.stop();
    tmp.cleanup();
  });

  it('login page: a wrong token is refused with its error, in both languages; keyboard, axe, screenshots', async () => {
    const { page, context } = await b.newPage();
    try {
      await page.goto(w.base);
      await page.getByTestId('token').waitFor(wait);
      await accessible(page, 'login', true);
      await page
        .getByTestId('token')
        .fill(w.tokens.read.slice(0, -4) + (w.tokens.read.endsWith('AAAA') ? 'BBBB' : 'AAAA'));
      await page.getByTestId('login').click();
      const error = page.getByTestId('error');
      await error.waitFor(wait);
      assert.equal(await error.getAttribute('data-code'), 'TOKEN_INVALID');
      assert.match(await error.innerText(), new RegExp(catalogs.en.errors.TOKEN_INVALID!.message.slice(0, 20)));
      assert.equal(await page.getByTestId('logout').count(), 0, 'not logged in');
      for (const lang of ['en', 'ja'] as const) {
        await page.getByTestId(`lang-${lang}`).click();
        const title = (lang === 'ja' ? ja : en)('console.loginTitle');
        await page.getByRole('heading', { level: 1, name: title, exact: true }).waitFor(wait);
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        if (lang === 'ja') {
          assert.match(await error.innerText(), new RegExp(catalogs.ja.errors.TOKEN_INVALID!.message.slice(0, 10)));
          assert.deepEqual(await englishLeft(page), [], 'no English left on the login page');
        }
        await accessible(page, `login (${lang})`, false);
        await screenshot(page, 'authority-login-refused', lang);
      }
    } finally {
      await context.close();
    }
  });

  it('admin: catalog, masked keys with used and left, a slot released after a confirm step', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.admin);
    try {
      await open(page, 'catalog');
      const editions = page.locator('[data-testid=editions] tbody tr');
      await editions.first().waitFor(wait);
      const rows = await editions.allInnerTexts();
      assert.equal(rows.length, Object.keys(w.world.setupKeys).length);
      for (const [code, setupKey] of Object.entries(w.world.setupKeys))
        assert.ok(
          rows.some((r) => r.includes(code) && r.includes(setupKey)),
          `${code} with its setup key ${setupKey}`,
        );
      assert.match(await page.locator('main').innerText(), /server-2026/);

      await open(page, 'keys');
      const masked = (key: string) => `*****-*****-*****-*****-${key.split('-').pop()}`;
      const hostRow = await row(page, 'host-keys', w.hostKey.id, (t) => t.length > 0);
      assert.ok(hostRow.includes(masked(w.hostKey.key)) && hostRow.includes('host key'), hostRow);
      assert.match(hostRow, /2 of 3 used, 1 left/, 'two hosts hold slots');
      const dcRow = await rowText(page, 'host-keys', w.datacenterKey.id);
      assert.ok(dcRow.includes('datacenter key') && dcRow.includes(masked(w.datacenterKey.key)), dcRow);
      assert.match(await rowText(page, 'maks', w.maks.approve.id), /0 of 5 used, 5 left/);
      const text = await page.locator('main').innerText();
      for (const k of [w.hostKey, w.datacenterKey, ...Object.values(w.maks)])
        assert.ok(!text.includes(k.key), 'no whole key on the page');

      await page.getByTestId(`hosts-${w.hostKey.id}`).click();
      const hosts = page.locator('[data-testid=key-hosts] tbody tr');
      await hosts.nth(1).waitFor(wait);
      const osaka = w.hosts['osaka-kms']!;
      await page.getByTestId(`release-${osaka}`).click();
      const question = en('console.keys.releaseConfirm').replace('{host}', 'osaka-kms').replace('{key}', w.hostKey.id);
      await page.getByText(question).waitFor(wait);
      assert.equal((await hosts.allInnerTexts()).length, 2, 'nothing released before the confirm');
      await accessible(page, 'keys, the hosts of a key and the confirm step', true);
      await screenshot(page, 'authority-keys-release-confirm', 'en');
      await page.getByTestId(`release-${osaka}-confirm`).click();
      await hosts.filter({ hasText: 'osaka-kms' }).waitFor({ state: 'detached', ...wait });
      assert.deepEqual(await hosts.allInnerTexts().then((r) => r.map((t) => t.split('\t')[0])), ['tokyo-kms']);
      assert.match(await page.getByTestId('status').innerText(), /osaka-kms was released/);
      await row(page, 'host-keys', w.hostKey.id, (t) => /1 of 3 used, 2 left/.test(t));
    } finally {
      await context.close();
    }
  });

  it('admin: approve with an amount (the limit rises), reject with a note; both in the audit log', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.admin);
    try {
      await open(page, 'requests');
      // fill in two rows, then decide one: the list reloads without it, and what was typed in the
      // other row stays with its request
      const approve = page.getByTestId(`decide-${w.requests.approve}`);
      const reject = page.getByTestId(`decide-${w.requests.reject}`);
      await approve.getByTestId('amount').fill('4');
      await reject.getByTestId('note').fill('not this quarter');
      await approve.getByTestId('approve').click();
      await said(page, `Request ${w.requests.approve} approved.`);
      await approve.waitFor({ state: 'detached', ...wait });
      assert.equal(await reject.getByTestId('note').inputValue(), 'not this quarter');
      assert.equal(await page.getByTestId(`decide-${w.requests.attack}`).getByTestId('note').inputValue(), '');
      await reject.getByTestId('reject').click();
      await said(page, `Request ${w.requests.reject} rejected.`);
      await page.getByTestId('request-state').selectOption('');
      const approved = await row(page, 'request-table', w.requests.approve, (t) => t.includes('Approved'));
      assert.match(approved, /\b4\b/, 'granted 4');
      assert.match(await rowText(page, 'request-table', w.requests.reject), /Rejected[\s\S]*not this quarter/);

      await open(page, 'keys');
      await row(page, 'maks', w.maks.approve.id, (t) => /0 of 9 used, 9 left/.test(t));
      assert.match(await rowText(page, 'maks', w.maks.reject.id), /0 of 5 used, 5 left/, 'rejected: no change');

      await open(page, 'audit');
      const audit = page.locator('[data-testid=audit-table] tbody');
      await audit.filter({ hasText: 'host.release' }).waitFor(wait);
      const log = await audit.innerText();
      for (const [action, target] of [
        ['request.approve', w.requests.approve],
        ['request.reject', w.requests.reject],
        ['host.release', w.hostKey.id],
      ] as const)
        assert.ok(
          log.split('\n').some((l) => l.includes(action) && l.includes(target)),
          `${action} ${target}`,
        );
      assert.match(log, /ops-admin/, 'the actor is the token');
    } finally {
      await context.close();
    }
  });

  it('admin: a token created (its secret shown once) and revoked, which ends its console session at once', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.admin);
    let other: Awaited<ReturnType<typeof loggedIn>> | undefined;
    try {
      await open(page, 'tokens');
      await page.getByTestId('token-name').fill('night-shift');
      await page.getByTestId('scope-issue').check();
      await page.getByTestId('create-token').click();
      const secret = await page.getByTestId('token-secret').locator('input').inputValue();
      assert.match(secret, /^vat_/);
      // switching the language keeps what the page shows: the secret is not shown again later
      await page.getByTestId('lang-ja').click();
      await page.getByRole('heading', { level: 1, name: ja('console.page.tokens'), exact: true }).waitFor(wait);
      assert.equal(await page.getByTestId('token-secret').locator('input').inputValue(wait), secret);
      assert.deepEqual(await englishLeft(page), [], 'the secret shown in Japanese');
      await page.getByTestId('lang-en').click();
      assert.equal((await w.api('GET', '/v1/admin/host-keys', undefined, secret)).status, 200, 'the new token works');
      assert.match(await row(page, 'token-table', 'night-shift'), /read, issue/);
      other = await loggedIn(b, w.base, secret);
      await open(other.page, 'keys');
      await open(page, 'catalog');
      await open(page, 'tokens');
      await page.locator('[data-testid=token-table] tbody tr', { hasText: 'night-shift' }).waitFor(wait);
      assert.equal(await page.getByTestId('token-secret').count(), 0, 'the secret is shown once');
      assert.ok(!(await page.locator('body').innerText()).includes(secret));
      const id = (await w.api('GET', '/v1/admin/tokens')).body.find(
        (t: { name: string }) => t.name === 'night-shift',
      ).id;
      await page.getByTestId(`revoke-${id}`).click();
      await page.getByTestId(`revoke-${id}-confirm`).click();
      await said(page, 'Token night-shift revoked.');
      assert.equal(await page.getByTestId(`revoke-${id}`).count(), 0);
      const refused = await w.api('GET', '/v1/admin/host-keys', undefined, secret);
      assert.equal(refused.status, 401, 'a revoked token is refused');
      // its console session ends at once: the next request answers 401 and the page asks to log in
      await other!.page.getByTestId('nav-catalog').click();
      await other!.page.getByTestId('token').waitFor(wait);
    } finally {
      await other?.context.close();
      await context.close();
    }
  });

  it('offline without login: a confirmation ID in groups with a QR code and a copy button, applied with -atp', async () => {
    const { page, context } = await b.newPage();
    try {
      await page.goto(`${w.base}#/offline`);
      assert.deepEqual(await page.locator('nav a').allInnerTexts(), ['Offline activation'], 'only the public page');
      await page.getByTestId('login-link').waitFor(wait);
      const pc = w.machines[0]!;
      await page.getByTestId('iid').fill(pc.installationId.toLowerCase().replace(/-/g, ' '));
      await page.getByTestId('get-cid').click();
      const cid = page.getByTestId('cid');
      await cid.waitFor(wait);
      const id = (await cid.getAttribute('data-cid'))!;
      const groups = await cid.locator('span').allInnerTexts();
      assert.ok(groups.length >= 6, `groups: ${groups.join(' ')}`);
      assert.equal(groups.join('-'), id, 'the groups are the confirmation ID');
      assert.match(await page.getByTestId('qr').getAttribute('src', wait).then(String), /^data:image\/png;base64,/);
      await context.grantPermissions(['clipboard-read', 'clipboard-write']);
      await page.getByTestId('copy').click();
      await said(page, en('console.off.copied'));
      assert.equal(await page.evaluate('navigator.clipboard.readText()'), id, 'the copy button copies the ID');
      assert.equal(await page.getByTestId('bulk-file').count(), 0, 'no bulk without the issue scope');
      assert.match(await page.locator('main').innerText(), new RegExp(en('console.off.needsIssue')));
      await screenshot(page, 'authority-offline-public', 'en');
      await page.getByTestId('lang-ja').click();
      assert.equal(await cid.getAttribute('data-cid', wait), id, 'the confirmation ID stays after the switch');
      assert.deepEqual(await englishLeft(page), [], 'the public page and its answer in Japanese');
      await screenshot(page, 'authority-offline-public', 'ja');
      const atp = await pc.slmgr('-atp', id);
      assert.equal(atp.code, 0, atp.stdout + atp.stderr);
      assert.equal((await pc.slmgr('-dli')).json.licenseState, 'licensed');
    } finally {
      await context.close();
    }
  });

  it('bulk with an issue token: a file of good and malformed lines, progress to 100%, the results file', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.issue);
    try {
      await open(page, 'offline');
      const [, pc2, pc3] = w.machines;
      const file = [
        '# two machines and two typing mistakes',
        `pc-2 ${pc2!.installationId}`,
        pc3!.installationId,
        'pc-typo 12345-67890',
        'nonsense',
      ].join('\n');
      await page
        .getByTestId('bulk-file')
        .setInputFiles({ name: 'ids.txt', mimeType: 'text/plain', buffer: Buffer.from(file) });
      const progress = page.getByTestId('bulk-progress');
      await page.getByTestId('bulk-download').waitFor(wait);
      assert.equal(await progress.getAttribute('value'), '4');
      assert.equal(await progress.getAttribute('max'), '4');
      assert.match(await page.locator('main').innerText(), /4 of 4[\s\S]*2 confirmed, 2 failed\./);
      const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('bulk-download').click()]);
      assert.equal(download.suggestedFilename(), 'confirmations.txt');
      const lines = readFileSync((await download.path())!, 'utf8')
        .trim()
        .split('\n');
      assert.equal(lines.length, 5, lines.join('\n'));
      const [ok2, ok3, bad1, bad2] = lines.slice(1).map((l) => l.split(' '));
      assert.deepEqual(
        [ok2, ok3, bad1, bad2].map((l) => `${l![0]} ${l![2]!.startsWith('ERROR') ? 'ERROR' : 'CID'}`),
        ['pc-2 CID', 'line-3 CID', 'pc-typo ERROR', 'line-5 ERROR'],
      );
      assert.deepEqual(
        await resultRows(page),
        [
          ['pc-2', ok2![2]],
          ['line-3', ok3![2]],
          ['pc-typo', bad1![3]],
          ['line-5', bad2![3]],
        ],
        "each line's result on the page, as in the file",
      );
      await page.getByTestId('lang-ja').click();
      await page.getByText(ja('console.off.results')).waitFor(wait);
      assert.equal((await resultRows(page)).length, 4, 'the results stay after the switch');
      assert.deepEqual(await englishLeft(page), [], 'the results and their errors in Japanese');
      await screenshot(page, 'authority-offline-bulk', 'ja');
      const atp = await pc2!.slmgr('-atp', ok2![2]!);
      assert.equal(atp.code, 0, atp.stdout + atp.stderr);
      await screenshot(page, 'authority-offline-bulk', 'en');
    } finally {
      await context.close();
    }
  });

  it('a read token: approve, release, issue and token controls absent or disabled; a forced decision is 403', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.read);
    try {
      await open(page, 'requests');
      await page.getByTestId('read-only').waitFor(wait);
      await page.locator('[data-testid=request-table] tbody tr').first().waitFor(wait);
      assert.equal(await page.getByTestId('approve').count(), 0);
      assert.equal(await page.getByTestId('reject').count(), 0);
      await open(page, 'keys');
      await page.getByTestId(`hosts-${w.hostKey.id}`).click();
      assert.equal(await page.getByTestId(`release-${w.hosts['tokyo-kms']}`).isDisabled(wait), true);
      await open(page, 'tokens');
      await page.getByTestId('read-only').waitFor(wait);
      assert.equal(await page.getByTestId('token-form').count(), 0);
      await open(page, 'offline');
      assert.equal(await page.getByTestId('bulk-file').count(), 0);
      const forced = await page.evaluate(`(async () => {
        const { csrf } = await (await fetch('/v1/console/session')).json();
        const r = await fetch('/v1/admin/requests/decide', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
          body: JSON.stringify({ v: 1, id: ${JSON.stringify(w.requests.attack)}, decision: 'approve' }),
        });
        return { status: r.status, code: (await r.json()).code };
      })()`);
      assert.deepEqual(forced, { status: 403, code: 'TOKEN_SCOPE' });
    } finally {
      await context.close();
    }
  });

  it('every page in Japanese and English: headings, navigation, no English left, axe, keyboard, screenshots', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.admin);
    try {
      for (const lang of ['en', 'ja'] as const) {
        await page.getByTestId(`lang-${lang}`).click();
        const say = lang === 'ja' ? ja : en;
        for (const path of pages) {
          await page.goto(`${w.base}#/${path}`);
          await page.getByRole('heading', { level: 1, name: say(titleOf(path)), exact: true }).waitFor(wait);
          for (const what of loaded[path]) await page.locator(what).first().waitFor(wait);
          assert.equal(await page.locator('html').getAttribute('lang'), lang);
          assert.deepEqual(
            await page.locator('nav a').allInnerTexts(),
            pages.map((p) => say(titleOf(p))),
            path,
          );
          const left = await englishLeft(page);
          if (lang === 'ja') assert.deepEqual(left, [], `${path}: no English left`);
          else assert.ok(left.includes(`${titleOf(path)}: "${en(titleOf(path))}"`), 'the check sees the English');
          await screenshot(page, `authority-${path}`, lang);
          await accessible(page, `${path} (${lang})`, lang === 'en');
        }
      }
    } finally {
      await context.close();
    }
  });

  it('a cross-site form post and a cross-origin fetch are refused; the request stays pending; logout', async () => {
    const { page, context } = await loggedIn(b, w.base, w.tokens.admin);
    try {
      // the same site on another port: the browser sends the cookie, the console's write check refuses;
      // another site: SameSite=Strict keeps the cookie back, so there is no session at all
      for (const [from, codes] of [
        [evil, ['CROSS_SITE_REFUSED', 'CSRF_REFUSED']],
        [foreign, ['TOKEN_MISSING']],
      ] as const) {
        const answer = page.waitForResponse((r) => r.url().endsWith('/v1/admin/requests/decide'));
        await page.goto(`${from.origin}/form`);
        const refused = await answer;
        assert.ok(refused.status() >= 400 && refused.status() < 500, `refused: ${refused.status()}`);
        assert.ok((codes as readonly string[]).includes((await refused.json()).code), await refused.text());
      }
      await page.goto(`${evil.origin}/`);
      const attack = attackBody();
      const fetched = await crossOriginFetches(page, `http://127.0.0.1:${w.authority.port}/v1/admin/`, attack);
      assert.deepEqual(fetched, ['blocked', 'blocked', 'opaque'], 'the other origin cannot read or write');
      const pending = (await w.api('GET', '/v1/admin/requests?state=pending')).body as { id: string }[];
      assert.ok(pending.map((r) => r.id).includes(w.requests.attack), 'the request is still pending');

      await page.goto(w.base);
      await page.getByTestId('logout').click();
      await page.getByTestId('token').waitFor(wait);
      assert.equal(await page.locator('nav a').count(), 1, 'only the public page once logged out');
      const after = await page.evaluate(async () => (await fetch('/v1/console/session')).status);
      assert.equal(after, 401);
      await page.reload();
      await page.getByTestId('token').waitFor(wait);
    } finally {
      await context.close();
    }
  });
});
