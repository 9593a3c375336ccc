/**
 * A real browser for the console tests: Debian's chromium (scripts/test.sh installs it), driven by
 * playwright-core. Start it in a suite's `before` and close it in the suite's `after` (which runs
 * when a test fails too); playwright also kills it if the test process exits. Every page records
 * its console errors, page errors and CSP violations.
 * `axe(page)` runs axe-core in the page and sorts the violations by impact; `screenshot` saves a
 * full-page PNG under $VOLACT_ARTIFACTS_DIR/console/ (default <repo>/test-artifacts/console/).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { catalogs, type MessageId } from '@volact/protocol/messages';

const require = createRequire(import.meta.url);
const REPO = new URL('../../..', import.meta.url).pathname;

export const CHROMIUM = process.env.VOLACT_CHROMIUM ?? '/usr/bin/chromium';

export type Problems = { errors: string[] };

export type TestBrowser = {
  browser: Browser;
  /** A fresh context (own cookies) and page; `problems.errors` collects what went wrong in it. */
  newPage(options?: { locale?: string }): Promise<{ page: Page; context: BrowserContext; problems: Problems }>;
  close(): Promise<void>;
};

/**
 * Whether the browser tests can run here: the reason to skip them, or undefined. Without root,
 * scripts/test.sh cannot install chromium, and the tests say so instead of failing.
 */
export function browserUnavailable(): string | undefined {
  try {
    readFileSync(CHROMIUM);
    return undefined;
  } catch {
    return `${CHROMIUM} is missing: install Debian's chromium (npm test does it as root) or set VOLACT_CHROMIUM`;
  }
}

export async function startBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // containers often run as root without a user namespace sandbox
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
  });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await browser.close().catch(() => undefined);
  };
  return {
    browser,
    close,
    async newPage(options = {}) {
      const context = await browser.newContext({
        ignoreHTTPSErrors: true, // the host console's certificate is self-signed
        locale: options.locale ?? 'en-US',
        viewport: { width: 1280, height: 900 },
      });
      const page = await context.newPage();
      const problems: Problems = { errors: [] };
      page.on('console', (m) => {
        if (m.type() === 'error') problems.errors.push(`console: ${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (err) => problems.errors.push(`page error: ${err.message}`));
      return { page, context, problems };
    },
  };
}

export type Violation = { id: string; impact: string; help: string; nodes: string[] };

/**
 * axe-core's violations in the page, by impact (critical, serious, moderate, minor). The source is
 * evaluated through the DevTools protocol, which the page's CSP (script-src 'self') does not block,
 * so the page is checked under its real policy.
 */
export async function axe(page: Page): Promise<Record<string, Violation[]>> {
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const violations = await page.evaluate(async () => {
    const run = (globalThis as unknown as { axe: { run: (o: unknown) => Promise<{ violations: any[] }> } }).axe.run;
    const result = await run({ resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: String(v.id),
      impact: String(v.impact ?? 'minor'),
      help: String(v.help),
      nodes: (v.nodes as { target: unknown[] }[]).map((n) => n.target.join(' ')),
    }));
  });
  const byImpact: Record<string, Violation[]> = { critical: [], serious: [], moderate: [], minor: [] };
  for (const v of violations) (byImpact[v.impact] ??= []).push(v);
  return byImpact;
}

export function artifactsDir(): string {
  return join(process.env.VOLACT_ARTIFACTS_DIR ?? join(REPO, 'test-artifacts'), 'console');
}

/** Saves a full-page screenshot as <artifacts>/console/<name>-<lang>.png; returns its path. */
export async function screenshot(page: Page, name: string, lang: string): Promise<string> {
  const dir = artifactsDir();
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${name}-${lang}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

// --- page checks: English left on a Japanese page, keyboard reach (added for the authority browser tests) ---
// (the in-page parts are JavaScript text: the tests are compiled without the DOM's types)

/** The English templates of the console.* IDs whose Japanese differs, as whole-text patterns. */
function englishPatterns(): { id: string; re: RegExp }[] {
  const { en, ja } = catalogs;
  const out: { id: string; re: RegExp }[] = [];
  for (const [id, text] of Object.entries(en.messages) as [MessageId, string][]) {
    if (!id.startsWith('console.') || ja.messages[id] === text) continue;
    // too little literal text to tell from data (a template that is all placeholders)
    if (text.replace(/\{\w+\}/g, '').replace(/[^A-Za-z]/g, '').length < 2) continue;
    const source = text
      .split(/\{\w+\}/)
      .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.+');
    out.push({ id, re: new RegExp(`^${source}$`, 's') });
  }
  return out;
}

const VISIBLE_TEXTS = `(() => {
  const seen = new Set([document.title]);
  const add = (s) => {
    const v = (s || '').replace(/\\s+/g, ' ').trim();
    if (v) seen.add(v);
  };
  for (const el of document.body.querySelectorAll('*')) {
    for (const a of ['aria-label', 'alt', 'placeholder', 'title']) add(el.getAttribute(a));
    if (!el.checkVisibility() || el.offsetWidth === 0) continue;
    add(el.innerText);
    add([...el.childNodes].filter((n) => n.nodeType === Node.TEXT_NODE).map((n) => n.textContent).join(''));
  }
  return [...seen];
})()`;

/**
 * The visible English console strings left on the page: every visible element's text (its whole
 * text and its own text nodes), aria-labels, alt texts, placeholders, titles and the document title
 * that equal an English template whose Japanese differs. Data (names, codes) never equals a whole
 * template, so it does not count.
 */
export async function englishLeft(page: Page): Promise<string[]> {
  const texts = (await page.evaluate(VISIBLE_TEXTS)) as string[];
  const left: string[] = [];
  for (const { id, re } of englishPatterns())
    for (const text of texts) if (re.test(text)) left.push(`${id}: ${JSON.stringify(text)}`);
  return left;
}

export type KeyboardReach = { missed: string[]; noFocusRing: string[]; stops: number };

const MARK_CONTROLS = `(() => {
  window.__kb = [];
  for (const el of document.querySelectorAll('[data-kb]')) delete el.dataset.kb;
  const controls = [...document.querySelectorAll('a[href], button, input, select, textarea')].filter(
    (el) => el.checkVisibility() && el.offsetWidth > 0 && !el.disabled && el.type !== 'hidden',
  );
  controls.forEach((el, i) => (el.dataset.kb = String(i)));
  if (!window.__kbListening) {
    window.__kbListening = true;
    const ids = new WeakMap();
    document.addEventListener('focusin', (e) => {
      if (!ids.has(e.target)) ids.set(e.target, Math.random());
      const s = getComputedStyle(e.target);
      const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
      window.__kb.push({ id: (e.target.dataset && e.target.dataset.kb) || '', seen: ids.get(e.target), ring });
    });
  }
  // start from the top: focus a first element and take it away (the next Tab goes from there)
  const start = document.createElement('span');
  start.tabIndex = -1;
  document.body.prepend(start);
  start.focus();
  start.remove();
  window.__kb = [];
  window.scrollTo(0, 0);
  return controls.map((el) => el.tagName.toLowerCase() + ' ' + (el.dataset.testid || el.textContent.trim()));
})()`;
const CAME_ROUND = `window.__kb.length > 1 && window.__kb.slice(1).some((k) => k.seen === window.__kb[0].seen)`;

/**
 * Tabs through the page from the top and compares what got focus with every visible, enabled
 * button, link, input, select and textarea: `missed` the controls never reached, `noFocusRing` the
 * ones reached with neither an outline nor a box-shadow.
 */
export async function keyboardReach(page: Page): Promise<KeyboardReach> {
  const wanted = (await page.evaluate(MARK_CONTROLS)) as string[];
  let stops = 0;
  for (; stops < wanted.length * 2 + 20; stops++) {
    await page.keyboard.press('Tab');
    if (await page.evaluate(CAME_ROUND)) break;
  }
  const got = (await page.evaluate('window.__kb')) as { id: string; ring: boolean }[];
  const reached = new Set(got.map((g) => g.id));
  return {
    missed: wanted.filter((_, i) => !reached.has(String(i))),
    noFocusRing: got.filter((g) => !g.ring).map((g) => wanted[Number(g.id)] ?? `element ${g.id || '(unmarked)'}`),
    stops,
  };
}
