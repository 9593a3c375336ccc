/**
 * An authority for the authority console's browser tests: a running authority with tokens of every
 * scope, a host key with two hosts holding slots, a datacenter key, MAKs with increase requests
 * filed by their holders, and air-gapped client machines (own state directory and fingerprint)
 * that hold a MAK and show an installation ID, ready for offline activation.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPair, rawPublicKey } from '@volact/protocol';
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
