import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync, cpSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DAY,
  HOUR,
  MINUTE,
  ManualClock,
  VolactError,
  defaults,
  docTypes,
  errorBody,
  generateKeyPair,
  hypervisorIdFor,
  mintKey,
  publicKeyToPem,
  rawPublicKey,
  signDocument,
  type KeyPair,
  type VmActivateRequest,
} from '@volact/protocol';
import { runAgent } from './agent.js';
import { Client } from './client.js';
import { readLicense } from './read-license.js';
import { readEvents } from './events.js';
import { VmUuidUnverifiable, readVmUuid, vmUuidForReading, type VmIdentitySource } from './vm-identity.js';

const T0 = Date.UTC(2026, 0, 1);
const EDITION = 201;
const OTHER_EDITION = 202;
const UUID = '4c4c4544-0042-3510-8052-b4c04f4e3232';
const OTHER_UUID = '9f0e1d2c-3b4a-5968-7766-554433221100';
const secret = randomBytes(32);
const vmKey = mintKey(secret, 'vm', EDITION, 1n);

const tmpRoots: string[] = [];
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'volact-vm-test-'));
  tmpRoots.push(d);
  return d;
}

/** A publisher: its root and the `hypervisor` issuing key that certifies agents. */
class Publisher {
  readonly root: KeyPair = generateKeyPair('root');
  readonly issuerPair: KeyPair = generateKeyPair('iss-hypervisor');
  readonly issuer = signDocument(this.root, docTypes.issuer, 1, {
    kid: this.issuerPair.kid,
    purpose: 'hypervisor',
    publicKey: rawPublicKey(this.issuerPair.publicKey),
    root: this.root.kid,
    notBefore: T0 - DAY,
    notAfter: T0 + 2 * 365 * DAY,
  });
  rootPem(): string {
    return publicKeyToPem(this.root.publicKey);
  }
}

type Reply = { status: number; body: unknown };

/**
 * A hypervisor agent over real HTTP on 127.0.0.1: its own key, a certificate from `publisher`
 * for the guest editions `editions`, and grants signed like the real agent's. `answer` replaces
 * the normal reply (refusals, tampered grants).
 */
class FakeAgent {
  readonly pair: KeyPair = generateKeyPair('host');
  readonly id = hypervisorIdFor(rawPublicKey(this.pair.publicKey));
  readonly certificate: string;
  readonly issuer: string;
  readonly requests: VmActivateRequest[] = [];
  answer: ((req: VmActivateRequest) => Reply) | null = null;
  port = 0;

  constructor(
    readonly clock: ManualClock,
    publisher: Publisher,
    readonly name: string,
    editions = [EDITION],
  ) {
    this.issuer = publisher.issuer;
    this.certificate = signDocument(publisher.issuerPair, docTypes.hypervisorCert, 1, {
      hostId: this.id,
      hostKeyId: 'DK-1',
      hostPublicKey: rawPublicKey(this.pair.publicKey),
      hostName: name,
      group: 'server-2026',
      editions: editions.map((number) => ({ number, code: `ed${number}`, name: `Edition ${number}`, kind: 'server' })),
      issuedAt: T0 - DAY,
      notAfter: null,
      activation: 1,
    });
  }

  /** A grant for `req`; `over` changes payload fields before signing. */
  grant(req: VmActivateRequest, over: Record<string, unknown> = {}): string {
    const now = this.clock.now();
    return signDocument(this.pair, docTypes.vmGrant, 1, {
      machineId: req.machineId,
      vmUuid: req.vmUuid,
      fingerprintHash: req.fingerprintHash,
      nonce: req.nonce,
      edition: EDITION,
      editionCode: `ed${EDITION}`,
      editionName: `Edition ${EDITION}`,
      hypervisorId: this.id,
      hypervisorName: this.name,
      issuedAt: now,
      validUntil: now + defaults.vmValidityMs,
      renewalMinutes: defaults.vmRenewalMinutes,
      ...over,
    });
  }

  reply(req: VmActivateRequest): Reply {
    if (this.answer) return this.answer(req);
    return { status: 200, body: { grant: this.grant(req), certificate: this.certificate, issuer: this.issuer } };
  }

  async start(): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as VmActivateRequest;
        this.requests.push(body);
        const r = this.reply(body);
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      });
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }
}

/** An error body as the agent sends it. */
const refusal = (err: VolactError): Reply => ({ status: err.status, body: errorBody(err) });

/** A port nothing listens on: a server is started there and closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A guest: its state directory, fingerprint, VM UUID file, the publisher's root and the VM key installed. */
async function guest(opts: { install?: boolean; vmIdentity?: VmIdentitySource } = {}) {
  const clock = new ManualClock(T0);
  const publisher = new Publisher();
  const agent = await new FakeAgent(clock, publisher, 'hv01.example.test').start();
  const files = tempDir();
  const uuidFile = join(files, 'product_uuid');
  writeFileSync(uuidFile, UUID.toUpperCase() + '\n'); // SMBIOS shows it in upper case
  const fpFile = join(files, 'fingerprint.json');
  writeFileSync(
    fpFile,
    JSON.stringify({ osId: 'os-guest-1', cpu: 'vcpu', board: UUID, disks: ['vd1'], nics: ['52:54:00:00:00:21'] }),
  );
  const env: NodeJS.ProcessEnv = {
    VOLACT_FINGERPRINT_FILE: fpFile,
    VOLACT_VM_UUID_FILE: uuidFile,
    VOLACT_VM_AGENT: agent.address,
  };
  const dir = join(tempDir(), 'state');
  const client = new Client({ dir, clock, env, vmIdentity: opts.vmIdentity ?? root(BOOT) });
  client.trust(publisher.rootPem());
  if (opts.install ?? true) client.installKey(vmKey);
  const events = () => readEvents(dir).filter((e) => e.event === 12309);
  return { clock, publisher, agent, client, dir, env, uuidFile, events };
}

/** The SMBIOS file as an unprivileged user meets it (the tests run as root, so it is injected). */
function deniedUuid(): never {
  throw new VolactError('VM_UUID_UNREADABLE', {
    file: '/sys/class/dmi/id/product_uuid',
    reason: 'permission denied (the file is readable by root only)',
  });
}
const BOOT = '0d4e5f60-7182-4394-a5b6-c7d8e9f0a1b2';
/** Root, who reads the VM UUID file, in the boot `bootId`. */
const root = (bootId: string | null): VmIdentitySource => ({ readUuid: readVmUuid, bootId: () => bootId });
/** A user who may not read the SMBIOS file, in the boot `bootId`. */
const unprivileged = (bootId: string | null): VmIdentitySource => ({ readUuid: deniedUuid, bootId: () => bootId });

function isCode(code: string, params: Record<string, unknown> = {}) {
  return (err: unknown) => {
    assert.ok(err instanceof VolactError, `expected a VolactError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    for (const [k, v] of Object.entries(params)) assert.equal(err.params[k], v, `param ${k}`);
    return true;
  };
}

/** Replaces the payload of a JWS and keeps its signature (a grant changed on the way). */
function tamper(jws: string, change: (p: Record<string, unknown>) => void): string {
  const [h, p, s] = jws.split('.');
  const payload = JSON.parse(Buffer.from(p!, 'base64url').toString('utf8')) as Record<string, unknown>;
  change(payload);
  return `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
}

describe('VM keys on a guest', () => {
  test('-ipk installs a VM key for its edition with the daily renewal, and refuses a datacenter key', async () => {
    const { client } = await guest({ install: false });
    const datacenterKey = mintKey(secret, 'datacenter', 3, 7n);
    assert.throws(() => client.installKey(datacenterKey), isCode('KEY_DATACENTER_ON_CLIENT'));
    assert.equal(client.state().key, null);
    const s = client.installKey(vmKey);
    assert.deepEqual([s.key?.keyClass, s.key?.edition], ['vm', EDITION]);
    assert.deepEqual(s.intervals, { renewalMinutes: defaults.vmRenewalMinutes, retryMinutes: defaults.vmRetryMinutes });
    assert.equal(client.details().channel, 'VIRTUAL_MACHINE_ACTIVATION');
    assert.deepEqual(client.clearKeyText().cleared, false, 'a VM key is public: renewals send it');
  });
});

describe('automatic VM activation', () => {
  test('activates from the agent: the grant is verified and stored, and -dli/-dlv show the hypervisor', async () => {
    const { client, agent, clock, events } = await guest();
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'vmActivated');
    assert.equal(outcome.host, agent.address);
    const req = agent.requests[0]!;
    assert.equal(req.vmUuid, UUID, 'the VM UUID is sent in lower case');
    assert.equal(req.vmKey, vmKey);
    assert.equal(req.machineId, client.state().machine.id);
    const view = client.license();
    assert.equal(view.state, 'licensed');
    assert.equal(view.endsAt, T0 + defaults.vmValidityMs);
    assert.equal(view.reason, 'activated by hypervisor hv01.example.test');
    const d = client.details();
    assert.equal(d.channel, 'VIRTUAL_MACHINE_ACTIVATION');
    assert.deepEqual(d.edition, { number: EDITION, code: `ed${EDITION}`, name: `Edition ${EDITION}` });
    assert.deepEqual(d.vm, {
      guestId: UUID,
      hypervisorName: 'hv01.example.test',
      hypervisorId: agent.id,
      activatedAt: new Date(T0).toISOString(),
      validUntil: new Date(T0 + defaults.vmValidityMs).toISOString(),
      agent: agent.address,
    });
    assert.deepEqual(d.vmAgent, { address: agent.address, from: 'VOLACT_VM_AGENT' });
    assert.equal(d.validUntil, new Date(T0 + defaults.vmValidityMs).toISOString());
    assert.equal(d.renewalMinutes, defaults.vmRenewalMinutes);
    clock.advance(DAY);
    assert.equal((await client.activate()).kind, 'vmRenewed');
    assert.equal(client.license().endsAt, T0 + DAY + defaults.vmValidityMs, 'each renewal restarts the 7 days');
    assert.deepEqual(
      events().map((e) => [e.outcome, e.code, e.agent, e.vmUuid]),
      [
        ['success', null, agent.address, UUID],
        ['success', null, agent.address, UUID],
      ],
    );
  });

  test('nothing listening at the agent address is NOT_A_VM, logged as notVm', async () => {
    const { client, env, events } = await guest();
    const address = `127.0.0.1:${await closedPort()}`;
    env.VOLACT_VM_AGENT = address;
    await assert.rejects(client.activate(), isCode('NOT_A_VM', { address }));
    assert.equal(client.license().state, 'initialGrace');
    assert.deepEqual(
      events().map((e) => [e.outcome, e.code, e.agent]),
      [['notVm', 'NOT_A_VM', address]],
    );
    assert.deepEqual(client.state().lastAttempt, { at: T0, ok: false });
  });

  test('an address that accepts but never answers is NOT_A_VM after about 5 seconds', async () => {
    const { client, env, events } = await guest();
    const silent = createServer(() => {}); // reads the request, never answers
    servers.push(silent);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(silent.address() as AddressInfo).port}`;
    env.VOLACT_VM_AGENT = address;
    const started = Date.now();
    await assert.rejects(client.activate(), isCode('NOT_A_VM', { address, reason: 'no answer within 5000 ms' }));
    assert.ok(Date.now() - started < 8000, 'the guest does not wait long for an agent that is not there');
    assert.equal(events()[0]!.outcome, 'notVm');
    silent.closeAllConnections();
  });

  test('an agent that is not activated (503) is VM_INVALID_HOST', async () => {
    const { client, agent, events } = await guest();
    agent.answer = () => refusal(new VolactError('HYPERVISOR_NOT_ACTIVATED'));
    await assert.rejects(client.activate(), (err) => {
      isCode('VM_INVALID_HOST', { address: agent.address })(err);
      assert.match((err as VolactError).message, /not activated/);
      return true;
    });
    assert.deepEqual(
      events().map((e) => [e.outcome, e.code]),
      [['invalidHost', 'VM_INVALID_HOST']],
    );
  });

  test('an agent certified by another root is VM_INVALID_HOST, and nothing is stored', async () => {
    const { client, clock, env, events } = await guest();
    const rogue = await new FakeAgent(clock, new Publisher(), 'rogue.example.test').start();
    env.VOLACT_VM_AGENT = rogue.address;
    await assert.rejects(client.activate(), (err) => {
      isCode('VM_INVALID_HOST')(err);
      assert.match((err as VolactError).message, /CHAIN_UNTRUSTED_ROOT|ISSUER_NOT_CERTIFIED/);
      return true;
    });
    assert.equal(client.license().state, 'initialGrace');
    assert.equal(client.details().vm, null);
    assert.equal(events()[0]!.outcome, 'invalidHost');
  });

  test('a changed, misdirected or replayed grant is VM_INVALID_DATA', async () => {
    const { client, agent, events } = await guest();
    const bundle = (grant: string): Reply => ({
      status: 200,
      body: { grant, certificate: agent.certificate, issuer: agent.issuer },
    });
    const cases: [string, (req: VmActivateRequest) => Reply, RegExp][] = [
      [
        'payload changed after signing',
        (req) => bundle(tamper(agent.grant(req), (p) => (p.validUntil = Number(p.validUntil) + DAY))),
        /SIGNATURE_INVALID/,
      ],
      ['for another VM', (req) => bundle(agent.grant(req, { vmUuid: OTHER_UUID })), /ANSWER_MACHINE_MISMATCH/],
      ['for another nonce', (req) => bundle(agent.grant(req, { nonce: 'A'.repeat(24) })), /ANSWER_REPLAYED/],
      ['for another edition', (req) => bundle(agent.grant(req, { edition: OTHER_EDITION })), /edition/],
      ['valid 30 days', (req) => bundle(agent.grant(req, { validUntil: T0 + 30 * DAY })), /7 days/],
    ];
    for (const [what, answer, detail] of cases) {
      agent.answer = answer;
      await assert.rejects(client.activate(), (err) => {
        isCode('VM_INVALID_DATA')(err);
        assert.match((err as VolactError).message, detail, what);
        return true;
      });
    }
    assert.equal(client.license().state, 'initialGrace');
    assert.deepEqual(
      events().map((e) => e.outcome),
      cases.map(() => 'invalidData'),
    );
  });

  test('the agent refusing the request (400) is VM_INVALID_DATA; a clock refusal passes as CLOCK_SKEW', async () => {
    const { client, agent } = await guest();
    agent.answer = () => refusal(new VolactError('BAD_REQUEST', { field: 'vmUuid', problem: 'is not a UUID' }));
    await assert.rejects(client.activate(), isCode('VM_INVALID_DATA'));
    agent.answer = () => refusal(new VolactError('VM_INVALID_DATA', { detail: 'bad nonce' }));
    await assert.rejects(client.activate(), isCode('VM_INVALID_DATA'));
    agent.answer = () => refusal(new VolactError('CLOCK_SKEW', { minutes: 300 }));
    await assert.rejects(client.activate(), isCode('CLOCK_SKEW', { minutes: 300 }));
  });

  test('a denial (403) is VM_DENIED with the reason the agent gave', async () => {
    const { client, agent, events } = await guest();
    agent.answer = () =>
      refusal(new VolactError('VM_DENIED', { reason: 'inventory', detail: 'no VM with this UUID on this host' }));
    await assert.rejects(
      client.activate(),
      isCode('VM_DENIED', { reason: 'inventory', detail: 'no VM with this UUID on this host' }),
    );
    assert.deepEqual(
      events().map((e) => [e.outcome, e.code]),
      [['denied', 'VM_DENIED']],
    );
  });

  test('no SMBIOS product UUID is NOT_A_VM, logged as notVm, before any request', async () => {
    const { client, agent, env, events } = await guest();
    const file = join(tempDir(), 'missing');
    env.VOLACT_VM_UUID_FILE = file;
    await assert.rejects(
      client.activate(),
      isCode('NOT_A_VM', { address: agent.address, reason: `no SMBIOS product UUID (${file})` }),
    );
    assert.deepEqual(
      events().map((e) => [e.outcome, e.code, e.agent, e.vmUuid]),
      [['notVm', 'NOT_A_VM', agent.address, null]],
    );
    assert.deepEqual(client.state().lastAttempt, { at: T0, ok: false });
    assert.equal(agent.requests.length, 0);
  });

  test('a VM UUID that cannot be read (permission, malformed) is VM_UUID_UNREADABLE, logged as unreadable', async () => {
    const { client, agent, clock, dir, env, uuidFile, events } = await guest();
    const user = new Client({ dir, clock, env, vmIdentity: unprivileged(BOOT) });
    await assert.rejects(
      user.activate(),
      isCode('VM_UUID_UNREADABLE', { reason: 'permission denied (the file is readable by root only)' }),
    );
    writeFileSync(uuidFile, 'Not Settable\n');
    await assert.rejects(client.activate(), isCode('VM_UUID_UNREADABLE', { file: uuidFile }));
    assert.deepEqual(
      events().map((e) => [e.outcome, e.code, e.vmUuid]),
      [
        ['unreadable', 'VM_UUID_UNREADABLE', null],
        ['unreadable', 'VM_UUID_UNREADABLE', null],
      ],
    );
    assert.equal(agent.requests.length, 0);
  });
});

describe('a stored VM activation', () => {
  test('is not believed in another VM: a license copied with its state is foreign there', async () => {
    const { client, dir, clock, env, uuidFile } = await guest();
    await client.activate();
    const copy = join(tempDir(), 'state');
    cpSync(dir, copy, { recursive: true });
    const otherUuidFile = join(tempDir(), 'product_uuid');
    writeFileSync(otherUuidFile, OTHER_UUID);
    const other = new Client({ dir: copy, clock, env: { ...env, VOLACT_VM_UUID_FILE: otherUuidFile } });
    const view = other.license();
    assert.equal(view.state, 'initialGrace');
    assert.match(view.reason, /another machine/);
    assert.equal(other.details().vm, null);
    // the same files in the VM they were issued to still count
    assert.equal(
      new Client({ dir: copy, clock, env: { ...env, VOLACT_VM_UUID_FILE: uuidFile } }).license().state,
      'licensed',
    );
  });

  test('runs out 7 days after the last grant, then 30 days of grace, then notification', async () => {
    const { client, clock, env } = await guest();
    await client.activate();
    env.VOLACT_VM_AGENT = `127.0.0.1:${await closedPort()}`; // the guest left the host
    clock.advance(defaults.vmValidityMs - MINUTE);
    assert.equal(client.license().state, 'licensed');
    clock.advance(MINUTE);
    await assert.rejects(client.activate(), isCode('NOT_A_VM'));
    const grace = client.license();
    assert.equal(grace.state, 'ootGrace');
    assert.equal(grace.endsAt, T0 + defaults.vmValidityMs + defaults.ootGraceMs);
    assert.match(grace.reason, /automatic VM activation expired; renew with the hypervisor agent/);
    clock.advance(defaults.ootGraceMs);
    assert.equal(client.license().state, 'notification');
  });

  test('a failed renewal keeps the stored grant until it expires', async () => {
    const { client, agent, clock, dir, events } = await guest();
    await client.activate();
    const stored = readFileSync(join(dir, 'license.json'), 'utf8');
    agent.answer = () => refusal(new VolactError('HYPERVISOR_NOT_ACTIVATED'));
    clock.advance(DAY);
    await assert.rejects(client.activate(), isCode('VM_INVALID_HOST'));
    assert.equal(readFileSync(join(dir, 'license.json'), 'utf8'), stored, 'license.json is untouched');
    assert.equal(client.license().state, 'licensed');
    assert.equal(client.license().endsAt, T0 + defaults.vmValidityMs);
    assert.equal(client.state().intervals.retryMinutes, defaults.vmRetryMinutes);
    assert.deepEqual(
      events().map((e) => [e.outcome, e.kept]),
      [
        ['success', undefined],
        ['invalidHost', true],
      ],
    );
  });

  test('migrates: another entitled agent grants at the next renewal; an agent not entitled is denied and the old grant runs out', async () => {
    const { client, publisher, agent, clock, env } = await guest();
    await client.activate();
    const second = await new FakeAgent(clock, publisher, 'hv02.example.test').start();
    env.VOLACT_VM_AGENT = second.address;
    clock.advance(DAY);
    assert.equal((await client.activate()).kind, 'vmRenewed');
    let d = client.details();
    assert.deepEqual(
      [d.vm?.hypervisorId, d.vm?.hypervisorName, d.vm?.agent],
      [second.id, 'hv02.example.test', second.address],
    );
    assert.notEqual(second.id, agent.id);
    // a third host whose datacenter key covers another edition only: the agent denies, as the real one does
    const third = await new FakeAgent(clock, publisher, 'hv03.example.test', [OTHER_EDITION]).start();
    third.answer = () =>
      refusal(new VolactError('VM_DENIED', { reason: 'edition', detail: `edition ${EDITION} is not covered` }));
    env.VOLACT_VM_AGENT = third.address;
    clock.advance(DAY);
    await assert.rejects(client.activate(), isCode('VM_DENIED', { reason: 'edition' }));
    d = client.details();
    assert.equal(d.licenseState, 'licensed', 'the grant of hv02 is kept');
    assert.equal(d.vm?.hypervisorId, second.id);
    clock.set(T0 + DAY + defaults.vmValidityMs);
    assert.equal(client.license().state, 'ootGrace');
  });
});

describe('the agent loop on a guest', () => {
  test('activates at start, renews daily, and retries hourly after a failure', async () => {
    const { client, agent, clock } = await guest();
    let failNext = 0;
    const at: number[] = [];
    agent.answer = (req) => {
      at.push(clock.now());
      if (at.length === 3) failNext = 2; // the third and fourth requests fail
      if (failNext > 0) {
        failNext--;
        return refusal(new VolactError('HYPERVISOR_NOT_ACTIVATED'));
      }
      return { status: 200, body: { grant: agent.grant(req), certificate: agent.certificate, issuer: agent.issuer } };
    };
    let sleeps = 0;
    await runAgent(client, clock, {
      sleep: async (ms) => {
        sleeps++;
        clock.advance(ms);
      },
      log: () => {},
      stop: () => at.length >= 6 || sleeps > 100_000,
      pollMs: 30 * MINUTE,
    });
    const day = defaults.vmRenewalMinutes;
    const retry = defaults.vmRetryMinutes;
    assert.deepEqual(
      at.map((t) => (t - T0) / MINUTE),
      [0, day, 2 * day, 2 * day + retry, 2 * day + 2 * retry, 3 * day + 2 * retry],
    );
    assert.equal(client.license().state, 'licensed');
    // a restart (the VM booted, maybe on another host) asks the agent at once, not a day later
    clock.advance(HOUR);
    const restartedAt = clock.now();
    await runAgent(client, clock, {
      sleep: async (ms) => {
        sleeps++;
        clock.advance(ms);
      },
      log: () => {},
      stop: () => at.length >= 7 || sleeps > 100_000,
      pollMs: 30 * MINUTE,
    });
    assert.equal(at[6], restartedAt);
  });
});

describe('the hypervisor agent address', () => {
  test('is the link-local default, a stored setting, or VOLACT_VM_AGENT, in that order of strength', async () => {
    const { client, env, agent } = await guest();
    delete env.VOLACT_VM_AGENT;
    assert.deepEqual(client.details().vmAgent, { address: '169.254.16.88:1689', from: 'default' });
    client.setVmAgent('[fe80::5054:ff:fe00:1%eth0]:1700');
    assert.deepEqual(client.state().vmAgent, { host: 'fe80::5054:ff:fe00:1%eth0', port: 1700 });
    assert.deepEqual(client.details().vmAgent, { address: '[fe80::5054:ff:fe00:1%eth0]:1700', from: 'setting' });
    client.setVmAgent('hv-agent.local');
    assert.deepEqual(client.state().vmAgent, { host: 'hv-agent.local', port: defaults.vmAgentPort });
    env.VOLACT_VM_AGENT = agent.address;
    assert.deepEqual(client.details().vmAgent, { address: agent.address, from: 'VOLACT_VM_AGENT' });
    assert.throws(() => client.setVmAgent('a b'), isCode('USAGE'));
    assert.throws(() => client.setVmAgent('10.0.0.1:70000'), isCode('VALUE_OUT_OF_RANGE'));
    assert.deepEqual(client.state().vmAgent, { host: 'hv-agent.local', port: defaults.vmAgentPort }, 'unchanged');
    client.setVmAgent(null);
    assert.equal(client.state().vmAgent, null);
  });

  test('a state.json written before the setting existed reads as the default', async () => {
    const { client, dir, clock, env } = await guest();
    const file = join(dir, 'state.json');
    const old = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete old.vmAgent;
    writeFileSync(file, JSON.stringify(old));
    delete env.VOLACT_VM_AGENT;
    assert.equal(new Client({ dir, clock, env }).state().vmAgent, null);
    assert.equal(client.details().vmAgent?.from, 'default');
  });
});

describe('the VM UUID a stored license is read against', () => {
  const read = 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee';
  const missing = () => {
    throw new VolactError('VM_UUID_UNREADABLE', { file: 'f', reason: 'there is no such file' });
  };
  const record = (dir: string, r: unknown) => writeFileSync(join(dir, 'vm-identity.json'), JSON.stringify(r));

  test('is the one read now, when it can be read, whatever is recorded', () => {
    const dir = tempDir();
    record(dir, { vmUuid: OTHER_UUID, bootId: BOOT });
    assert.equal(vmUuidForReading(dir, {}, { readUuid: () => read, bootId: () => BOOT }), read);
    assert.throws(
      () => vmUuidForReading(dir, {}, { readUuid: missing, bootId: () => BOOT }),
      (e: unknown) => (e as VolactError).code === 'VM_UUID_UNREADABLE' && !(e instanceof VmUuidUnverifiable),
    );
  });

  test("is root's record of this boot for an unprivileged reader, and unverifiable without one", () => {
    const dir = tempDir();
    const unverifiable = (why: RegExp) => (e: unknown) => {
      assert.ok(e instanceof VmUuidUnverifiable, String(e));
      assert.equal(e.code, 'VM_UUID_UNREADABLE');
      assert.match(e.message, /permission denied/);
      assert.match(e.message, why);
      return true;
    };
    assert.throws(() => vmUuidForReading(dir, {}, unprivileged(BOOT)), unverifiable(/has not recorded it/));
    record(dir, { vmUuid: UUID, bootId: BOOT });
    assert.equal(vmUuidForReading(dir, {}, unprivileged(BOOT)), UUID);
    assert.throws(() => vmUuidForReading(dir, {}, unprivileged('another-boot')), unverifiable(/another boot/));
    assert.throws(() => vmUuidForReading(dir, {}, unprivileged(null)), unverifiable(/boot's ID/));
    record(dir, { vmUuid: 'not a uuid', bootId: BOOT });
    assert.throws(() => vmUuidForReading(dir, {}, unprivileged(BOOT)), unverifiable(/has not recorded it/));
  });

  test('-ato as root records the VM UUID and boot ID, world-readable; an unprivileged reader of this boot sees the license', async () => {
    const { client, clock, dir, env } = await guest();
    await client.activate();
    const file = join(dir, 'vm-identity.json');
    assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), { vmUuid: UUID, bootId: BOOT });
    assert.equal(statSync(file).mode & 0o777, 0o644);
    const user = new Client({ dir, clock, env, vmIdentity: unprivileged(BOOT) });
    assert.equal(user.license().state, 'licensed');
    assert.equal(user.details().vm?.guestId, UUID);
    const read = (boot: string) => readLicense({ stateDir: dir, clock, env, vmIdentity: unprivileged(boot) });
    assert.deepEqual([read(BOOT).state, read(BOOT).activatedBy], ['licensed', 'vm']);
    assert.equal(read('rebooted').state, 'initialGrace', 'a record of another boot verifies nothing');
  });

  test('an unprivileged reader with no record of this boot sees no license, with what to do, and -dli does not fail', async () => {
    const { client, clock, dir, env } = await guest();
    await client.activate();
    for (const [vmIdentity, why] of [
      [unprivileged('rebooted'), /another boot/],
      [unprivileged(null), /boot's ID/],
    ] as const) {
      const user = new Client({ dir, clock, env, vmIdentity });
      const view = user.license();
      assert.equal(view.state, 'initialGrace', 'not licensed');
      assert.match(view.reason, /cannot be verified/);
      assert.match(view.reason, why);
      assert.match(view.reason, /run volact slmgr -ato \(or the agent\) as root once after boot/);
      const d = user.details();
      assert.equal(d.licenseState, 'initialGrace');
      assert.equal(d.vm, null);
    }
    unlinkSync(join(dir, 'vm-identity.json'));
    const user = new Client({ dir, clock, env, vmIdentity: unprivileged(BOOT) });
    assert.match(user.license().reason, /has not recorded it/);
    // root reads it again (the agent at start): the record is back and the user sees the license
    await new Client({ dir, clock, env, vmIdentity: root(BOOT) }).activate();
    assert.equal(user.license().state, 'licensed');
  });

  test('a state directory carried to a clone or another machine is not licensed for an unprivileged reader there', async () => {
    const { client, clock, dir, env } = await guest();
    await client.activate();
    const copy = join(tempDir(), 'state');
    cpSync(dir, copy, { recursive: true });
    // the clone booted on its own: the record is of another boot
    const view = new Client({ dir: copy, clock, env, vmIdentity: unprivileged('clone-boot') }).license();
    assert.equal(view.state, 'initialGrace');
    assert.match(view.reason, /another boot/);
    // root of the clone ran -ato there (refused by the agent, but the clone's UUID is recorded): foreign
    record(copy, { vmUuid: OTHER_UUID, bootId: 'clone-boot' });
    const there = new Client({ dir: copy, clock, env, vmIdentity: unprivileged('clone-boot') }).license();
    assert.equal(there.state, 'initialGrace');
    assert.match(there.reason, /another machine/);
  });
});
