import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  decodeKey,
  generateKeyPair,
  hypervisorCertKind,
  hypervisorIdFor,
  makeInstallationId,
  offlineHostCertificate,
  publicKeyFromPem,
  rawPublicKey,
  rootFromKey,
  verifyHypervisorCert,
} from '@volact/protocol';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import type { Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

type Reply = { status: number; body: any };

function post(port: number, path: string, body: unknown, token?: string): Promise<Reply> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(text),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) }),
        );
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

const guestCodes = ['server-standard', 'server-datacenter', 'server-essentials'];
let requests = 0;
const agentBody = (key: string, pub = rawPublicKey(generateKeyPair('agent').publicKey)) => ({
  v: 1,
  hostKey: key,
  hostPublicKey: pub,
  hostName: 'hv-01',
  requestId: `e2e-request-${String(++requests).padStart(4, '0')}`,
});

/** A real authority process: datacenter keys from the CLI and the admin API, hypervisor agents activated over HTTP. */
describe('hypervisor agents on a running authority', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-hv-e2e-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let service: Service;
  let roots: ReturnType<typeof rootFromKey>[];
  const cli = (args: string[]) => volact(['authority', ...args, '--dir', world.dir], clock.env());

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 11, 2, 9));
    world = await makeAuthority(tmp.path, clock.env());
    roots = [rootFromKey(publicKeyFromPem(readFileSync(world.rootPub, 'utf8')))];
    service = await world.serve();
  });

  after(async () => {
    await service?.stop();
    tmp.cleanup();
  });

  it('lists VM keys for guest editions in the catalog, as text and JSON', async () => {
    const json = await cli(['catalog', '--json']);
    assert.equal(json.code, 0, json.stderr);
    const editions = json.json.editions as { code: string; vmKey?: string }[];
    assert.deepEqual(
      editions.filter((e) => e.vmKey).map((e) => e.code),
      guestCodes,
    );
    for (const e of editions.filter((x) => x.vmKey)) assert.equal(decodeKey(e.vmKey!).keyClass, 'vm');
    const text = await cli(['catalog']);
    assert.match(text.stdout, /guest/);
    const standard = text.stdout.split('\n').find((l) => / server-standard /.test(l))!;
    assert.ok(standard.includes(editions.find((e) => e.code === 'server-standard')!.vmKey!), standard);
    assert.match(standard, / yes /);
    assert.match(
      text.stdout.split('\n').find((l) => / desk-pro /.test(l))!,
      / no /,
    );
  });

  it('issues datacenter keys from the CLI, refuses a group without guests, and lists them with their class', async () => {
    const r = await cli(['issue-datacenter-key', '--group', 'server-2026', '--hosts', '2', '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      [r.json.keyClass, r.json.maxHosts, r.json.maxActivations, r.json.guestEditions],
      ['datacenter', 2, 10, guestCodes],
    );
    const text = await cli(['issue-datacenter-key', '--group', 'server-2026']);
    assert.match(text.stdout, /Datacenter key DK-[0-9a-f]{8} for server-2026: 6 hypervisor agents, 10 activations/);
    const refused = await cli(['issue-datacenter-key', '--group', 'desk-2026', '--json']);
    assert.notEqual(refused.code, 0);
    assert.equal(refused.json.error.code, 'GROUP_NO_GUEST_EDITIONS');
    const bad = await cli(['issue-datacenter-key', '--group', 'server-2026', '--activations', '0']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /VALUE_OUT_OF_RANGE/);
    const list = await cli(['host-keys', '--json']);
    const row = (list.json as { id: string; keyClass: string; hostsLimit: number }[]).find((k) => k.id === r.json.id)!;
    assert.deepEqual([row.keyClass, row.hostsLimit], ['datacenter', 2]);
    assert.match((await cli(['host-keys'])).stdout, new RegExp(`${r.json.id} +datacenter `));
  });

  it('certifies an agent at POST /v1/hypervisor-activations and refuses each wrong class with 400', async () => {
    const dk = (await cli(['issue-datacenter-key', '--group', 'server-2026', '--json'])).json.key as string;
    const hk = await world.issueHostKey('server-2026');
    const body = agentBody(dk);
    const ok = await post(service.port, '/v1/hypervisor-activations', body);
    assert.equal(ok.status, 200, JSON.stringify(ok.body));
    const { cert } = verifyHypervisorCert(ok.body.certificate, ok.body.issuer, roots, clock.t);
    assert.deepEqual(
      [cert.hostId, cert.editions.map((e) => e.code), ok.body.hostsUsed, ok.body.activationsUsed],
      [hypervisorIdFor(body.hostPublicKey), guestCodes, 1, 1],
    );
    const wrong = [
      await post(service.port, '/v1/hypervisor-activations', agentBody(hk)),
      await post(service.port, '/v1/host-activations', agentBody(dk)),
    ];
    for (const r of wrong) assert.deepEqual([r.status, r.body.code], [400, 'KEY_WRONG_CLASS']);
    const host = await post(service.port, '/v1/host-activations', agentBody(hk));
    assert.equal(host.status, 200, 'the host key still works where it belongs');
  });

  it('issues datacenter keys through the admin API with the issue scope only', async () => {
    const token = async (scope: string) => {
      const r = await cli(['token', 'create', '--name', `${scope} token`, '--scope', scope, '--json']);
      assert.equal(r.code, 0, r.stderr);
      return r.json.token as string;
    };
    const issue = await token('issue');
    const created = await post(
      service.port,
      '/v1/admin/datacenter-keys',
      { v: 1, group: 'server-2026', activations: 20 },
      issue,
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual(
      [created.body.keyClass, created.body.maxActivations, created.body.guestEditions],
      ['datacenter', 20, guestCodes],
    );
    const noGuests = await post(service.port, '/v1/admin/datacenter-keys', { v: 1, group: 'desk-2026' }, issue);
    assert.deepEqual([noGuests.status, noGuests.body.code], [400, 'GROUP_NO_GUEST_EDITIONS']);
    const read = await post(
      service.port,
      '/v1/admin/datacenter-keys',
      { v: 1, group: 'server-2026' },
      await token('read'),
    );
    assert.deepEqual([read.status, read.body.code], [403, 'TOKEN_SCOPE']);
    const none = await post(service.port, '/v1/admin/datacenter-keys', { v: 1, group: 'server-2026' });
    assert.equal(none.status, 401);
    const extra = await post(service.port, '/v1/admin/datacenter-keys', { v: 1, group: 'server-2026', x: 1 }, issue);
    assert.equal(extra.status, 400);
  });

  it('confirms a hypervisor installation ID over HTTP; the agent verifies its certificate with the offline bundle', async () => {
    const dk = (await cli(['issue-datacenter-key', '--group', 'server-2026', '--json'])).json.key as string;
    const agent = rawPublicKey(generateKeyPair('agent').publicKey);
    const iid = makeInstallationId(decodeKey(dk), { type: 'hypervisor', hostPublicKey: agent });
    const r = await post(service.port, '/v1/offline-confirmations', { v: 1, installationId: iid.text });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    assert.deepEqual([r.body.type, r.body.outcome, r.body.used], ['hypervisor', 'hypervisor activated', 1]);
    const bundle = await new Promise<any>((resolve, reject) => {
      request({ host: '127.0.0.1', port: service.port, path: '/v1/offline-bundle' }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve(JSON.parse(Buffer.concat(chunks).toString('utf8'))));
      })
        .on('error', reject)
        .end();
    });
    const certificate = offlineHostCertificate(
      {
        iid: iid.publicForm.toString('base64url'),
        cid: r.body.confirmationId,
        catalog: bundle.catalog,
        catalogIssuer: bundle.catalogIssuer,
      },
      hypervisorCertKind,
    );
    const { cert } = verifyHypervisorCert(certificate, bundle.offlineIssuer, roots, clock.t);
    assert.deepEqual([cert.hostId, cert.editions.map((e) => e.code)], [hypervisorIdFor(agent), guestCodes]);
  });
});
