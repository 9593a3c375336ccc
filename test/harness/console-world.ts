/**
 * Shared set-up for the browser tests of the host console: an authority and an activated host
 * whose console listens on a free loopback port, with a read and an admin host token; a bearer
 * call to the console API; and the checks every page goes through in a browser (Japanese text
 * only after the switch, every control reached with Tab and its focus visible).
 */
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { join } from 'node:path';
import { catalogs, type MessageId } from '@volact/protocol/messages';
import type { Page } from 'playwright-core';
import { volact } from './cli.js';
import { freePort } from './ports.js';
import { type Service } from './processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './world.js';

export type HostConsoleWorld = {
  world: AuthorityWorld;
  authority: Service;
  host: Service;
  hostDir: string;
  consolePort: number;
  /** https://127.0.0.1:PORT/ */
  base: string;
  tokens: { read: string; admin: string };
  stop(): Promise<void>;
};

/** Polls `read` until `ok` holds (the pages refresh themselves); its last value. */
export async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  let last: T | undefined;
  for (let i = 0; i < 100; i++) {
    last = await read();
    if (ok(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`${what}: never reached (last ${JSON.stringify(last)})`);
}

async function must(args: string[]) {
  const r = await volact(args);
  assert.equal(r.code, 0, `volact ${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r;
}

/** Starts an authority and a host activated with a server-2026 host key, console on a free port. */
export async function startHostConsole(base: string): Promise<HostConsoleWorld> {
  const world = await makeAuthority(base);
  const authority = await world.serve();
  const hostDir = join(base, 'host');
  const consolePort = await freePort();
  let host: Service | undefined;
  try {
    host = await startHost(hostDir, {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      extra: ['--console-listen', `127.0.0.1:${consolePort}`],
    });
    const key = await world.issueHostKey('server-2026');
    await must(['slmgr', '--host', hostDir, '-ipk', key]);
    await must(['slmgr', '--host', hostDir, '-ato']);
    const token = async (scope: string) =>
      (
        await must([
          'host',
          'token',
          'create',
          '--state',
          hostDir,
          '--name',
          `ops-${scope}`,
          '--scope',
          scope,
          '--json',
        ])
      ).json.token as string;
    const tokens = { read: await token('read'), admin: await token('admin') };
    const started = host;
    return {
      world,
      authority,
      host: started,
      hostDir,
      consolePort,
      base: `https://127.0.0.1:${consolePort}/`,
      tokens,
      async stop() {
        await started.stop();
        await authority.stop();
      },
    };
  } catch (err) {
    await host?.stop();
    await authority.stop();
    throw err;
  }
}

/** A console API call with a bearer token (the certificate is self-signed). */
export function consoleApi(
  port: number,
  token: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: text === undefined ? 'GET' : 'POST',
        rejectUnauthorized: false,
        headers: { authorization: `Bearer ${token}`, ...(text ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** The console's text of a message ID in a language. */
export function msg(id: MessageId, lang: 'en' | 'ja'): string {
  return catalogs[lang].messages[id] ?? catalogs.en.messages[id]!;
}

/**
 * The English fragments of the console.* messages whose Japanese differs, without their
 * placeholders; fragments shorter than 4 letters or found in some Japanese console message too
 * (like "ID" or "DNS") are left out, since they may rightly show on a Japanese page.
 */
export function englishFragments(): string[] {
  const ja = Object.entries(catalogs.ja.messages)
    .filter(([id]) => id.startsWith('console.'))
    .map(([, text]) => text!);
  const out = new Set<string>();
  for (const [id, en] of Object.entries(catalogs.en.messages)) {
    if (!id.startsWith('console.') || en === catalogs.ja.messages[id as MessageId]) continue;
    for (const part of en!.split(/\{\w+\}/)) {
      const f = part.trim().replace(/^[\s(),:;.–—-]+|[\s(),:;–—-]+$/g, '');
      if (f.replace(/[^A-Za-z]/g, '').length >= 4 && !ja.some((j) => j.includes(f))) out.add(f);
    }
  }
  return [...out];
}

/**
 * The visible text of the page that the console itself writes: table bodies (data), the
 * language switch's own "English" and machine-readable values (.mono) are left out. (Browser
 * code is given as text: the tests are compiled without the DOM's types.)
 */
export async function chromeText(page: Page): Promise<string> {
  return page.evaluate<string>(`(() => {
    const parts = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement;
      if (!el || el.closest('tbody, .mono, script, style, [lang]:not(html)')) continue;
      if (el.tagName !== 'OPTION' && !el.checkVisibility({ visibilityProperty: true })) continue;
      parts.push(n.textContent);
    }
    return parts.join('\\n');
  })()`);
}

/** English console strings still visible on the page (none should be after switching to Japanese). */
export async function englishLeft(page: Page): Promise<string[]> {
  const text = await chromeText(page);
  return englishFragments().filter((f) =>
    new RegExp(`(^|[^A-Za-z])${f.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([^A-Za-z]|$)`).test(text),
  );
}

export type Reach = { expected: string[]; reached: string[]; missed: string[]; noRing: string[] };

const MARK_CONTROLS = `(() => {
  document.querySelectorAll('[data-kb]').forEach((el) => el.removeAttribute('data-kb'));
  const els = [...document.querySelectorAll('a[href], button, input, select, textarea')].filter(
    (el) => !el.disabled && el.type !== 'hidden' && el.checkVisibility({ visibilityProperty: true }),
  );
  const start = document.createElement('span');
  start.tabIndex = -1;
  start.id = 'kb-start';
  document.body.prepend(start);
  start.focus();
  return els.map((el, i) => {
    el.dataset.kb = String(i);
    return i + ':' + el.tagName.toLowerCase() + '[' + (el.dataset.testid ?? el.getAttribute('name') ?? el.textContent.trim().slice(0, 30)) + ']';
  });
})()`;

const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body || el.id === 'kb-start') return null;
  const s = getComputedStyle(el);
  const ring = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || s.boxShadow !== 'none';
  return { name: el.dataset.kb ?? el.tagName.toLowerCase() + '.' + el.className, ring };
})()`;

/**
 * Tabs through the page from its top and collects what gets the focus: every visible, enabled
 * link, button and form field must be reached (`missed` lists those that were not), and each
 * focused element must show a focus ring, an outline or a box shadow (`noRing`).
 */
export async function keyboardReach(page: Page): Promise<Reach> {
  // marks the controls and starts the sequential focus navigation at the top of the body
  const expected = await page.evaluate<string[]>(MARK_CONTROLS);
  const reached: string[] = [];
  const noRing: string[] = [];
  let first: string | undefined;
  for (let i = 0; i < expected.length + 40; i++) {
    await page.keyboard.press('Tab');
    const now = await page.evaluate<{ name: string; ring: boolean } | null>(FOCUSED);
    if (!now || now.name === first) break;
    first ??= now.name;
    reached.push(now.name);
    if (!now.ring) noRing.push(now.name);
  }
  await page.evaluate(`document.getElementById('kb-start')?.remove()`);
  const missed = expected.filter((e) => !reached.includes(e.split(':')[0]!));
  return { expected, reached, missed, noRing };
}
