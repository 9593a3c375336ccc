import { memoryLog } from '@volact/io';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  DAY,
  DOC_VERSION,
  HOUR,
  ManualClock,
  docTypes,
  generateKeyPair,
  hypervisorIdFor,
  mintKey,
  publicKeyToPem,
  rawPublicKey,
  rootFromKey,
  signDocument,
  verifyHypervisorCert,
  verifyVmGrant,
  type KeyPair,
  type VmActivateRequest,
} from '@volact/protocol';
import type { Post } from '@volact/io';
import type { VolactError } from '@volact/protocol';
import { GUEST_REQUESTS_PER_MINUTE } from './http.js';
import { runAgent, type RunningAgent } from './run-agent.js';

const start = Date.UTC(2026, 5, 1, 12);
const root = generateKeyPair('root');
const roots = [rootFromKey(root.publicKey)];
const secret = randomBytes(32);

function issuer(purpose: string, key: KeyPair): string {
  return signDocument(root, docTypes.issuer, DOC_VERSION, {
    kid: key.kid,
    purpose,
    publicKey: rawPublicKey(key.publicKey),
    root: root.kid,
    notBefore: start - DAY,
    notAfter: start + 365 * DAY,
  });
}

const catalogKey = generateKeyPair('issuer');
const hypervisorKey = generateKeyPair('issuer');
const edition = (number: number, code: string, kind: 'client' | 'server') => ({
  number,
  code,
  name: code.toUpperCase(),
  product: 'os',
  kind,
  setupKey: mintKey(secret, 'setup', number, BigInt(number)),
  vmKey: mintKey(secret, 'vm', number, BigInt(number) + 1000n),
});
// the datacenter group covers pro and std; ent is a guest edition of another group
const editions = [edition(10, 'pro', 'client'), edition(20, 'std', 'server'), edition(30, 'ent', 'server')];
const catalog = signDocument(catalogKey, docTypes.catalog, DOC_VERSION, {
  serial: 1,
  issuedAt: start,
  products: [{ code: 'os', name: 'OS' }],
  editions,
  groups: [{ number: 7, code: 'dc-2026', name: 'Datacenter 2026', kind: 'server', editions: [10, 20] }],
});
const datacenterKey = mintKey(secret, 'datacenter', 7, 77n);

/** The authority's side of POST /v1/hypervisor-activations, signed with a `hypervisor` issuing key. */
const sent: { url: string; body: Record<string, unknown> }[] = [];
const postAuthority: Post = async (url, raw) => {
  const body = raw as Record<string, string>;
  sent.push({ url, body });
  const certificate = signDocument(hypervisorKey, docTypes.hypervisorCert, DOC_VERSION, {
    hostId: hypervisorIdFor(body.hostPublicKey!),
    hostKeyId: 'dc-key-1',
    hostPublicKey: body.hostPublicKey,
    hostName: body.hostName,
    group: 'dc-2026',
    editions: editions.slice(0, 2).map((e) => ({ number: e.number, code: e.code, name: e.name, kind: e.kind })),
    issuedAt: start,
    notAfter: null,
    activation: 1,
  });
  return {
    status: 200,
    body: {
      certificate,
      issuer: issuer('hypervisor', hypervisorKey),
      catalog,
      catalogIssuer: issuer('catalog', catalogKey),
      hostsUsed: 1,
      hostsLimit: 6,
      activationsUsed: 1,
      activationsLimit: 10,
    },
  };
};

const vmA = {
  uuid: '6f1d7c2a-0b3e-4c55-9a1e-2d3c4b5a6f70',
  name: 'web-1',
  macs: ['52:54:00:aa:00:01', '52:54:00:aa:00:02'],
};
const vmB = { uuid: '6f1d7c2a-0b3e-4c55-9a1e-2d3c4b5a6f71', name: 'db-1', macs: ['52:54:00:bb:00:01'] };

type Reply = { status: number; body: Record<string, unknown> };

function http(
  target: { port?: number; socketPath?: string },
  method: string,
  path: string,
  body?: string,
  type = 'application/json',
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', ...target, method, path, headers: body === undefined ? {} : { 'content-type': type } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString() || 'null') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

describe('hypervisor agent over HTTP', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-hv-'));
  const state = join(dir, 'state');
  const clock = new ManualClock(start);
  let sourceMac: string | undefined = vmA.macs[1];
  // the interface the neighbour entry was learnt on: the listen address 127.0.0.1 is on lo
  let sourceDevice = 'lo';
  let running: RunningAgent;
  let port: number;

  const open = () =>
    runAgent({
      dir: state,
      clock,
      log: memoryLog(),
      listen: ['127.0.0.1:0'], // port 0 is never stored; the rest comes from the state directory
      neighbours: async (address) =>
        address === '127.0.0.1' && sourceMac ? { mac: sourceMac, device: sourceDevice } : undefined,
      postAuthority,
    });

  before(async () => {
    const inventory = join(dir, 'vms.json');
    writeFileSync(inventory, JSON.stringify({ vms: [vmA, vmB] }));
    running = await runAgent({
      dir: state,
      clock,
      log: memoryLog(),
      rootPem: publicKeyToPem(root.publicKey),
      authorityUrl: 'http://authority.invalid',
      inventory: `static:${inventory}`,
      listen: ['127.0.0.1:0'],
      name: 'hv-test',
      neighbours: async (address) =>
        address === '127.0.0.1' && sourceMac ? { mac: sourceMac, device: sourceDevice } : undefined,
      postAuthority,
    });
    port = running.listening()[0]!.port;
  });
  after(async () => {
    await running.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ask = (over: Partial<VmActivateRequest> = {}) => {
    const machineId = randomUUID();
    const req: VmActivateRequest = {
      v: 1,
      vmUuid: vmA.uuid,
      machineId,
      fingerprintHash: createHash('sha256').update(machineId).digest('base64url'),
      vmKey: editions[0]!.vmKey,
      nonce: randomBytes(18).toString('base64url'),
      clientTime: clock.now(),
      machineName: 'web-1.example',
      ...over,
    };
    return http({ port }, 'POST', '/v1/activate', JSON.stringify(req)).then((r) => ({ ...r, req }));
  };
  const denial = (r: Reply) => [r.status, r.body.code, (r.body.params as { reason?: string } | undefined)?.reason];

  it('keeps its state files private', () => {
    assert.equal(statSync(state).mode & 0o777, 0o700);
    for (const f of ['hypervisor.key', 'hypervisor.db', 'admin.sock'])
      assert.equal(statSync(join(state, f)).mode & 0o777, 0o600, f);
  });

  it('answers 503 HYPERVISOR_NOT_ACTIVATED before it is activated, and records it', async () => {
    assert.deepEqual((await http({ port }, 'GET', '/v1/health')).body, { ok: true, activated: false });
    const r = await ask();
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'HYPERVISOR_NOT_ACTIVATED');
    const events = running.agent.events({});
    assert.deepEqual(
      [events.at(-1)?.outcome, events.at(-1)?.vmUuid, events.at(-1)?.code],
      ['invalidHost', vmA.uuid, 'HYPERVISOR_NOT_ACTIVATED'],
    );
  });

  it('activates once with the authority through the admin socket', async () => {
    const socketPath = running.socketPath;
    assert.equal((await http({ socketPath }, 'POST', '/keys', JSON.stringify({ key: datacenterKey }))).status, 200);
    const act = await http({ socketPath }, 'POST', '/activate', JSON.stringify({}));
    assert.equal(act.status, 200, JSON.stringify(act.body));
    assert.match(sent[0]!.url, /\/v1\/hypervisor-activations$/);
    assert.equal(sent[0]!.body.hostName, 'hv-test');
    const status = (await http({ socketPath }, 'GET', '/status')).body;
    assert.equal(status.activated, true);
    assert.deepEqual(
      (status.guestEditions as { code: string }[]).map((e) => e.code),
      ['pro', 'std'],
    );
    assert.deepEqual(status.inventory, { source: `static:${join(dir, 'vms.json')}`, vms: 2, error: null });
  });

  it('grants a VM of its inventory a 7-day grant the guest accepts', async () => {
    const r = await ask();
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const { grant, certificate, issuer: iss } = r.body as Record<string, string>;
    const chain = verifyHypervisorCert(certificate!, iss!, roots, clock.now());
    const g = verifyVmGrant(grant!, chain, {
      machineId: r.req.machineId,
      vmUuid: vmA.uuid,
      fingerprintHash: r.req.fingerprintHash,
      nonce: r.req.nonce,
      now: clock.now(),
    });
    assert.equal(g.edition, 10);
    assert.equal(g.validUntil - g.issuedAt, 7 * DAY);
    assert.equal(g.renewalMinutes, 1440);
    assert.equal(g.hypervisorName, 'hv-test');
    assert.equal(g.hypervisorId, running.agent.id);
  });

  it('denies an unknown VM, a foreign interface, an uncovered edition and a skewed clock', async () => {
    assert.deepEqual(denial(await ask({ vmUuid: '00000000-0000-4000-8000-000000000000' })), [
      403,
      'VM_DENIED',
      'inventory',
    ]);
    // an unknown VM asking for an uncovered edition learns only that it is unknown
    assert.deepEqual(denial(await ask({ vmUuid: '00000000-0000-4000-8000-000000000000', vmKey: editions[2]!.vmKey })), [
      403,
      'VM_DENIED',
      'inventory',
    ]);
    const rowBefore = running.agent.guests().find((g) => g.vmUuid === vmA.uuid);
    sourceMac = vmB.macs[0];
    assert.deepEqual(denial(await ask({ machineName: 'evil\u001b[31m' })), [400, 'BAD_REQUEST', undefined]);
    assert.deepEqual(denial(await ask({ machineName: 'impostor' })), [403, 'VM_DENIED', 'interface']);
    assert.deepEqual(
      running.agent.guests().find((g) => g.vmUuid === vmA.uuid),
      rowBefore,
      "a caller claiming a VM's UUID from another interface leaves that VM's row as it was",
    );
    // no neighbour entry, or one learnt on an interface that is not a guest bridge: no answer at all
    const events = running.agent.events({ limit: 100_000 }).length;
    sourceMac = undefined;
    await assert.rejects(ask(), /socket hang up|ECONNRESET/);
    sourceMac = vmA.macs[0];
    sourceDevice = 'eth9';
    await assert.rejects(ask(), /socket hang up|ECONNRESET/);
    await assert.rejects(http({ port }, 'GET', '/v1/health'), /socket hang up|ECONNRESET/);
    assert.equal(running.agent.events({ limit: 100_000 }).length, events, 'nothing is recorded for them');
    sourceDevice = 'lo';
    assert.deepEqual(denial(await ask({ vmKey: editions[2]!.vmKey })), [403, 'VM_DENIED', 'edition']);
    assert.deepEqual(denial(await ask({ clientTime: clock.now() + 5 * HOUR })), [403, 'CLOCK_SKEW', undefined]);
    assert.equal((await ask({ vmKey: editions[1]!.setupKey })).body.code, 'VM_INVALID_DATA');
    assert.equal((await ask({ vmKey: datacenterKey })).body.code, 'VM_INVALID_DATA');
    assert.equal((await ask({ vmKey: mintKey(randomBytes(32), 'vm', 10, 5n) })).body.code, 'VM_INVALID_DATA');
  });

  it('answers bad input with a 4xx, records it, and keeps serving', async () => {
    const before = running.agent.events({}).length;
    assert.equal((await http({ port }, 'POST', '/v1/activate', '{"v":1,')).body.code, 'BAD_JSON');
    assert.equal((await http({ port }, 'POST', '/v1/activate', 'x'.repeat(5000))).status, 413);
    assert.equal((await http({ port }, 'POST', '/v1/activate', '{}', 'text/plain')).status, 415);
    const bad = await http({ port }, 'POST', '/v1/activate', JSON.stringify({ v: 1, vmUuid: vmB.uuid, nonce: 3 }));
    assert.deepEqual([bad.status, bad.body.code], [400, 'BAD_REQUEST']);
    assert.equal((await http({ port }, 'GET', '/nope')).status, 404);
    const events = running.agent.events({}).slice(before);
    assert.deepEqual(
      events.map((e) => [e.outcome, e.code, e.vmUuid]),
      [
        ['invalidData', 'BAD_JSON', null],
        ['invalidData', 'BODY_TOO_LARGE', null],
        ['invalidData', 'UNSUPPORTED_MEDIA_TYPE', null],
        ['invalidData', 'BAD_REQUEST', vmB.uuid],
      ],
    );
    assert.equal((await ask()).status, 200);
  });

  it('records every outcome as events and each guest of the inventory as one row', async () => {
    const outcomes = new Set(running.agent.events({}).map((e) => e.outcome));
    assert.deepEqual([...outcomes].sort(), ['denied', 'invalidData', 'invalidHost', 'success']);
    assert.deepEqual(
      running.agent.events({ outcome: 'denied', vmUuid: vmA.uuid }).map((e) => e.reason),
      ['interface', 'edition', 'clockSkew'],
    );
    const guests = running.agent.guests();
    assert.deepEqual(
      guests.map((g) => g.vmUuid),
      [vmA.uuid],
      'an unknown UUID has events but no guest row',
    );
    const a = guests[0]!;
    assert.equal(a.vmName, 'web-1');
    assert.equal(a.lastOutcome, 'success');
    assert.equal(a.mac, vmA.macs[0]);
    assert.equal(a.grantedUntil, clock.now() + 7 * DAY);
    assert.equal(a.machineName, 'web-1.example');
  });

  it('keeps its activation and guests over a restart given only its state directory', async () => {
    const before = running.agent.guests();
    await running.close();
    running = await open();
    port = running.listening()[0]!.port;
    assert.notEqual(port, 0);
    assert.equal(running.agent.activated, true);
    assert.deepEqual(running.agent.guests(), before);
    clock.advance(DAY);
    assert.equal((await ask()).status, 200);
    assert.equal(running.agent.guests()[0]!.grantedUntil, clock.now() + 7 * DAY);
    assert.equal(running.agent.guests()[0]!.requests, before[0]!.requests + 1);
  });

  it('answers a flood from one address with 429 and Retry-After, and writes no event for it', async () => {
    clock.advance(60_000 - (clock.now() % 60_000)); // the start of a fresh minute
    const answered = [];
    for (let i = 0; i < GUEST_REQUESTS_PER_MINUTE; i++) answered.push((await ask()).status);
    assert.ok(answered.every((s) => s === 200));
    const events = running.agent.events({ limit: 100_000 }).length;
    const limited = await new Promise<{ status: number; retryAfter: string | undefined; code: string }>(
      (resolve, reject) => {
        const req = request(
          {
            host: '127.0.0.1',
            port,
            method: 'POST',
            path: '/v1/activate',
            headers: { 'content-type': 'application/json' },
          },
          (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString()));
            res.on('end', () =>
              resolve({
                status: res.statusCode!,
                retryAfter: res.headers['retry-after'],
                code: (JSON.parse(text) as { code: string }).code,
              }),
            );
          },
        );
        req.on('error', reject);
        req.end('{}');
      },
    );
    assert.deepEqual(limited, { status: 429, retryAfter: '60', code: 'RATE_LIMITED' });
    assert.equal(running.agent.events({ limit: 100_000 }).length, events);
    clock.advance(60_000);
    assert.equal((await ask()).status, 200);
  });

  it('refuses to listen on every interface', async () => {
    await assert.rejects(
      runAgent({ dir: join(dir, 'other'), clock, log: memoryLog(), listen: ['0.0.0.0:1689'] }),
      (e: unknown) => (e as VolactError).code === 'USAGE' && /never on every interface/.test((e as Error).message),
    );
  });

  it('refuses a second agent on the same state directory', async () => {
    await assert.rejects(open(), (e: unknown) => (e as { code?: string }).code === 'HYPERVISOR_ALREADY_RUNNING');
  });

  it('takes a newer catalog through the admin socket without activating again, and grants the guest edition it adds', async () => {
    const socketPath = running.socketPath;
    const post = (doc: string) =>
      http({ socketPath }, 'POST', '/catalog', JSON.stringify({ catalog: doc, issuer: issuer('catalog', catalogKey) }));
    const sentBefore = sent.length;
    const v2 = signDocument(catalogKey, docTypes.catalog, DOC_VERSION, {
      serial: 2,
      issuedAt: start + DAY,
      products: [{ code: 'os', name: 'OS' }],
      editions,
      groups: [{ number: 7, code: 'dc-2026', name: 'Datacenter 2026', kind: 'server', editions: [10, 20, 30] }],
    });
    assert.equal((await post(catalog)).body.outcome, 'current');
    const upd = await post(v2);
    assert.equal(upd.status, 200, JSON.stringify(upd.body));
    assert.deepEqual(upd.body, { outcome: 'updated', serial: 2, previous: 1, added: ['ent'] });
    const older = await post(catalog);
    assert.deepEqual([older.status, older.body.code], [409, 'CATALOG_OLDER']);
    assert.equal(sent.length, sentBefore, 'nothing went to the authority');

    clock.advance(60_000);
    const r = await ask({ vmKey: editions[2]!.vmKey });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    const body = r.body as Record<string, string>;
    assert.equal(body.catalog, v2, 'the grant for an added edition carries the catalog');
    const chain = verifyHypervisorCert(body.certificate!, body.issuer!, roots, clock.now());
    const expect = {
      machineId: r.req.machineId,
      vmUuid: vmA.uuid,
      fingerprintHash: r.req.fingerprintHash,
      nonce: r.req.nonce,
      now: clock.now(),
    };
    const signed = { catalog: body.catalog!, issuer: body.catalogIssuer! };
    assert.equal(verifyVmGrant(body.grant!, chain, { ...expect, catalog: { signed, roots } }).edition, 30);
    assert.throws(
      () => verifyVmGrant(body.grant!, chain, expect),
      (e: unknown) => (e as VolactError).code === 'ANSWER_EDITION_NOT_CERTIFIED',
    );
    assert.equal((await ask()).body.catalog, undefined, 'an edition the certificate lists is answered as before');
  });
});
