/**
 * An authority for the authority console's browser tests: a running authority with tokens of every
 * scope, a host key with two hosts holding slots, a datacenter key, MAKs with increase requests
 * filed by their holders, and air-gapped client machines (own state directory and fingerprint)
 * that hold a MAK and show an installation ID, ready for offline activation.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { generateKeyPair, rawPublicKey } from '@volact/protocol';
import assert from 'node:assert/strict';
import { catalogs, type MessageId } from '@volact/protocol/messages';
import { axe, keyboardReach, type TestBrowser } from './browser.js';
import { volact, type CliResult } from './cli.js';
import { type Service } from './processes.js';
import { makeAuthority, type AuthorityWorld } from './world.js';

export type Answer = { status: number; body: any };
export type Issued = { id: string; key: string };
export type OfflineMachine = {
  dir: string;
  installationId: string;
  slmgr: (...args: string[]) => Promise<CliResult>;
};

export type ConsoleAuthorityWorld = {
  world: AuthorityWorld;
  authority: Service;
  base: string;
  /** Secrets of tokens named by scope: read, approve, issue, admin. */
  tokens: Record<'read' | 'approve' | 'issue' | 'admin', string>;
  hostKey: Issued;
  datacenterKey: Issued;
  /** MAK holders' increase requests: `approve` and `reject` for the page, `attack` for the cross-site post. */
  maks: Record<'approve' | 'reject' | 'attack' | 'offline', Issued>;
  requests: Record<'approve' | 'reject' | 'attack', string>;
  /** The hosts holding slots of the host key: name → host ID. */
  hosts: Record<string, string>;
  machines: OfflineMachine[];
  /** A call to the authority's API, with the admin token unless `bearer` is '' or another token. */
  api: (method: 'GET' | 'POST', path: string, body?: unknown, bearer?: string) => Promise<Answer>;
};

async function call(port: number, method: string, path: string, body: unknown, bearer: string): Promise<Answer> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(bearer ? { authorization: `Bearer ${bearer}` } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

function must(a: Answer, status: number, what: string): any {
  if (a.status !== status) throw new Error(`${what}: ${a.status} ${JSON.stringify(a.body)}`);
  return a.body;
}

async function offlineMachine(base: string, name: string, bundle: string, mak: string): Promise<OfflineMachine> {
  const dir = join(base, name);
  const fp = join(base, `${name}.fp.json`);
  writeFileSync(
    fp,
    JSON.stringify({ osId: `os-${name}`, cpu: 'Xeon', board: `b-${name}`, disks: [`d-${name}`], nics: [`n-${name}`] }),
  );
  const slmgr = (...args: string[]) =>
    volact(['slmgr', '--json', '--state', dir, ...args], { VOLACT_FINGERPRINT_FILE: fp });
  for (const r of [await volact(['client', 'trust', bundle, '--state', dir, '--json']), await slmgr('-ipk', mak)])
    if (r.code !== 0) throw new Error(`${name}: ${r.stdout}${r.stderr}`);
  const dti = await slmgr('-dti');
  if (dti.code !== 0) throw new Error(`${name} -dti: ${dti.stdout}${dti.stderr}`);
  return { dir, slmgr, installationId: dti.json.installationId as string };
}

/** Sets it all up under `base`; stop `authority` in the suite's `after`. */
export async function makeConsoleAuthorityWorld(base: string, machineCount: number): Promise<ConsoleAuthorityWorld> {
  const world = await makeAuthority(base);
  const created = await volact([
    'authority',
    'token',
    'create',
    '--dir',
    world.dir,
    '--name',
    'ops-admin',
    '--scope',
    'admin',
    '--json',
  ]);
  if (created.code !== 0) throw new Error(created.stderr);
  const admin = created.json.token as string;
  const authority = await world.serve({}, ['--rate-logins', '1000']);
  const api = (method: 'GET' | 'POST', path: string, body?: unknown, bearer = admin) =>
    call(authority.port, method, path, body, bearer);
  try {
    const tokens = { admin } as ConsoleAuthorityWorld['tokens'];
    for (const scope of ['read', 'approve', 'issue'] as const)
      tokens[scope] = must(
        await api('POST', '/v1/admin/tokens', { v: 1, name: `ops-${scope}`, scopes: [scope] }),
        201,
        `token ${scope}`,
      ).token;
    const hostKey = must(
      await api('POST', '/v1/admin/host-keys', { v: 1, group: 'server-2026', hosts: 3 }),
      201,
      'host key',
    );
    const datacenterKey = must(
      await api('POST', '/v1/admin/datacenter-keys', { v: 1, group: 'server-2026' }),
      201,
      'datacenter key',
    );
    const maks = {} as ConsoleAuthorityWorld['maks'];
    const requests = {} as ConsoleAuthorityWorld['requests'];
    for (const use of ['approve', 'reject', 'attack', 'offline'] as const) {
      const activations = use === 'offline' ? 10 : 5;
      maks[use] = must(
        await api('POST', '/v1/admin/maks', { v: 1, edition: 'desk-pro', activations }),
        201,
        `MAK ${use}`,
      );
      if (use === 'offline') continue;
      const filed = { v: 1, key: maks[use].key, what: 'activations', amount: 3, reason: `more desks (${use})` };
      requests[use] = must(await api('POST', '/v1/increase-requests', filed, ''), 201, `request ${use}`).id;
    }
    for (const hostName of ['tokyo-kms', 'osaka-kms']) {
      const body = {
        v: 1,
        hostKey: hostKey.key,
        hostPublicKey: rawPublicKey(generateKeyPair('host').publicKey),
        hostName,
        requestId: randomBytes(16).toString('base64url'),
      };
      must(await api('POST', '/v1/host-activations', body, ''), 200, `host ${hostName}`);
    }
    const held = must(await api('GET', `/v1/admin/hosts?key=${hostKey.id}`), 200, 'hosts');
    const hosts = Object.fromEntries(
      (held.hosts as { hostName: string; hostId: string }[]).map((h) => [h.hostName, h.hostId]),
    );
    const bundle = join(base, 'offline-bundle.json');
    writeFileSync(bundle, JSON.stringify(must(await api('GET', '/v1/offline-bundle', undefined, ''), 200, 'bundle')));
    const machines = await Promise.all(
      Array.from({ length: machineCount }, (_, i) => offlineMachine(base, `pc-${i + 1}`, bundle, maks.offline.key)),
    );
    const base_ = `http://127.0.0.1:${authority.port}/console/`;
    return { world, authority, base: base_, tokens, hostKey, datacenterKey, maks, requests, hosts, machines, api };
  } catch (err) {
    await authority.stop();
    throw err;
  }
}

// --- for the pages: waiting, reading rows, logging in, a page on another origin ---

import { until } from './console-world.js';
export { until };

/** The text of the row of table `testid` that holds `has` ('' while there is none). */
export async function rowText(page: Page, testid: string, has: string): Promise<string> {
  const row = page.locator(`[data-testid=${testid}] tbody tr`, { hasText: has });
  return (await row.count()) === 0 ? '' : row.first().innerText();
}

/** A fresh browser context logged in with `token` at the console's first page. */
export async function loggedIn(b: TestBrowser, base: string, token: string) {
  const opened = await b.newPage();
  await opened.page.goto(base);
  await opened.page.getByTestId('token').fill(token);
  await opened.page.getByTestId('login').click();
  await opened.page.getByTestId('logout').waitFor({ timeout: 10_000 });
  return opened;
}

/**
 * Another origin (by default the same address, another port: the same site, so the browser sends
 * SameSite=Strict cookies; another loopback address is another site), as an attacker's page: /form posts `body` to
 * `target` as a text/plain form (the JSON split between a field's name and value) as soon as it
 * loads; any other path is an empty page to run fetch from.
 */
export async function otherOrigin(
  target: string,
  body: string,
  host = '127.0.0.1',
): Promise<{ origin: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    if (req.url !== '/form') return res.end('<p>another site</p>');
    res.end(
      `<form id="f" method="POST" action="${target}" enctype="text/plain">` +
        `<input name='${body.slice(0, -2)}' value='"}'></form>` +
        `<script>document.getElementById('f').submit()</script>`,
    );
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  return {
    origin: `http://${host}:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * From a page of another origin, with the browser's credentials: a read of `base`requests, a JSON
 * write of `approval` to `base`requests/decide (preflighted) and a plain-text one the browser sends
 * without asking (no-cors). Each is 'blocked', 'opaque' or 'answered STATUS'.
 */
export function crossOriginFetches(page: Page, base: string, approval: string): Promise<string[]> {
  return page.evaluate(
    async ([base, approval]) => {
      const out: string[] = [];
      for (const [path, init] of [
        ['requests', { method: 'GET' }],
        ['requests/decide', { method: 'POST', headers: { 'content-type': 'application/json' }, body: approval }],
        ['requests/decide', { method: 'POST', mode: 'no-cors', body: approval }],
      ] as const)
        try {
          const r = await fetch(base + path, { ...init, credentials: 'include' });
          out.push(r.type === 'opaque' ? 'opaque' : `answered ${r.status}`);
        } catch {
          out.push('blocked');
        }
      return out;
    },
    [base, approval] as const,
  );
}

/** The bulk page's result rows: [label, confirmation ID or error code]. */
export function resultRows(page: Page): Promise<(string | null | undefined)[][]> {
  return page
    .locator('[data-testid=bulk-results] tbody tr')
    .evaluateAll((rows) =>
      rows.map((r) => [
        (r as unknown as { cells: { textContent: string }[] }).cells[0]!.textContent,
        r.querySelector('[data-cid]')?.getAttribute('data-cid') ??
          r.querySelector('[data-code]')?.getAttribute('data-code'),
      ]),
    );
}

const WAIT = { timeout: 10_000 };

/** Waits until the live region says `text`. */
export const said = (page: Page, text: string) => page.getByTestId('status').filter({ hasText: text }).waitFor(WAIT);

/** Waits until the row of table `testid` holding `has` is there (and `ok` accepts its text); its text. */
export const row = (page: Page, testid: string, has: string, ok = (t: string) => t.length > 0) =>
  until(() => rowText(page, testid, has), ok, `${testid}: the row of ${has}`);

/** Goes to a page of the (English) console through the navigation and waits for its heading. */
export async function open(page: Page, path: string): Promise<void> {
  await page.getByTestId(`nav-${path}`).click();
  const title = catalogs.en.messages[`console.page.${path}` as MessageId]!;
  await page.getByRole('heading', { level: 1 }).filter({ hasText: title }).waitFor(WAIT);
}

/** No serious or critical axe violation; with `keyboard`, every control reached with Tab, focus visible. */
export async function accessible(page: Page, what: string, keyboard: boolean): Promise<void> {
  const v = await axe(page);
  assert.deepEqual([...v.critical!, ...v.serious!], [], `${what}: no serious axe violations`);
  if (!keyboard) return;
  const reach = await keyboardReach(page);
  assert.deepEqual(reach.missed, [], `${what}: every control reached with Tab`);
  assert.deepEqual(reach.noFocusRing, [], `${what}: focus is visible`);
}
