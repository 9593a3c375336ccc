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
