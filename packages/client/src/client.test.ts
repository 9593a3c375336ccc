import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DAY,
  HOUR,
  KEY_ALPHABET,
  ManualClock,
  VolactError,
  defaults,
  docTypes,
  generateKeyPair,
  mintKey,
  publicKeyToPem,
  rawPublicKey,
  signDocument,
  type ActivateRequest,
  type Catalog,
  type Fingerprint,
  type HostAnswerBundle,
  type KeyPair,
  type MakActivationRequest,
} from '@volact/protocol';
import type { Get, Post } from '@volact/io';
import { Client } from './client.js';
import { readEvents } from './events.js';
import type { HostTarget } from './transport.js';

const T0 = Date.UTC(2026, 0, 1);
const EDITION = 101;
const secret = randomBytes(32);
const setupKey = mintKey(secret, 'setup', EDITION, 5n);

const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'volact-client-test-'));
  tmpRoots.push(d);
  return d;
}

const baseFingerprint: Fingerprint = {
  osId: 'os-aaaaaaaaaaaaaaaa',
  cpu: 'Test CPU @ 3.0GHz',
  board: 'board-uuid-1',
  disks: ['disk-serial-1', 'disk-serial-2'],
  nics: ['52:54:00:00:00:01'],
};

type AnswerKind = 'grant' | 'countInsufficient' | 'refusal';

/** A publisher chain and an activation host that signs answers like the real one. */
class FakeHost {
  readonly root: KeyPair = generateKeyPair('root');
  readonly issuerPair: KeyPair = generateKeyPair('iss-host-cert');
  readonly hostPair: KeyPair = generateKeyPair('host');
  readonly hostId = 'H-test-0001';
  readonly hostName = 'kms01.example.test';
  readonly issuer: string;
  readonly certificate: string;
  /** What the host answers next; tests change it. */
  kind: AnswerKind = 'grant';
  count = 30;
  required = 25;
  renewalMinutes = 60;
  retryMinutes = 30;
  /** Host clock offset from the client's clock (host-signed time). */
  skewMs = 0;
  /** Replaces the normal answer when set (misbehaving hosts, replays). */
  override: ((req: ActivateRequest) => HostAnswerBundle) | null = null;
  readonly requests: { at: number; req: ActivateRequest }[] = [];
  readonly answers: HostAnswerBundle[] = [];

  constructor(private readonly clock: ManualClock) {
    this.issuer = signDocument(this.root, docTypes.issuer, 1, {
      kid: this.issuerPair.kid,
      purpose: 'host-cert',
      publicKey: rawPublicKey(this.issuerPair.publicKey),
      root: this.root.kid,
      notBefore: T0 - DAY,
      notAfter: T0 + 2 * 365 * DAY,
    });
    this.certificate = signDocument(this.issuerPair, docTypes.hostCert, 1, {
      hostId: this.hostId,
      hostKeyId: 'HK-1',
      hostPublicKey: rawPublicKey(this.hostPair.publicKey),
      hostName: this.hostName,
      group: 'client-2026',
      editions: [{ number: EDITION, code: 'pro', name: 'Example Pro', kind: 'client' }],
      issuedAt: T0,
      notAfter: null,
      activation: 1,
    });
  }

  rootPem(): string {
    return publicKeyToPem(this.root.publicKey);
  }

  /** Signs an answer of the given kind for a request; `over` changes payload fields. */
  answer(req: ActivateRequest, kind: AnswerKind, over: Record<string, unknown> = {}): HostAnswerBundle {
    const now = this.clock.now() + this.skewMs;
    const common = {
      machineId: req.machineId,
      nonce: req.nonce,
      edition: EDITION,
      hostId: this.hostId,
      hostName: this.hostName,
      issuedAt: now,
      count: this.count,
      required: this.required,
      renewalMinutes: this.renewalMinutes,
      retryMinutes: this.retryMinutes,
    };
    let answer: string;
    if (kind === 'grant') {
      answer = signDocument(this.hostPair, docTypes.grant, 1, {
        ...common,
        fingerprintHash: req.fingerprintHash,
        validUntil: now + defaults.validityMs,
        ...over,
      });
    } else if (kind === 'countInsufficient') {
      answer = signDocument(this.hostPair, docTypes.countInsufficient, 1, { ...common, ...over });
    } else {
      answer = signDocument(this.hostPair, docTypes.refusal, 1, { ...common, code: 'EDITION_NOT_COVERED', ...over });
    }
    return { answer, certificate: this.certificate, issuer: this.issuer };
  }

  readonly post = async (_target: HostTarget, req: ActivateRequest): Promise<{ status: number; body: unknown }> => {
    this.requests.push({ at: this.clock.now(), req });
    const bundle = this.override ? this.override(req) : this.answer(req, this.kind);
    this.answers.push(bundle);
    return { status: this.kind === 'refusal' ? 403 : 200, body: bundle };
  };
}

type World = {
  dir: string;
  env: NodeJS.ProcessEnv;
  clock: ManualClock;
  host: FakeHost;
  client: Client;
  writeFp: (fp: Fingerprint) => void;
};

/** A fresh client with a pinned root and a host set; `install` also installs the setup key. */
function world(opts: { install?: boolean; host?: FakeHost; clock?: ManualClock } = {}): World {
  const dir = tempDir();
  const fpFile = join(tempDir(), 'fingerprint.json');
  const writeFp = (fp: Fingerprint) => writeFileSync(fpFile, JSON.stringify(fp));
  writeFp(baseFingerprint);
  const clock = opts.clock ?? new ManualClock(T0);
  const host = opts.host ?? new FakeHost(clock);
  const env = { VOLACT_FINGERPRINT_FILE: fpFile };
  const client = new Client({ dir, clock, env, post: host.post });
  client.trust(host.rootPem());
  client.setKms({ host: '10.0.0.5', port: 1688 });
  if (opts.install ?? true) client.installKey(setupKey);
  return { dir, env, clock, host, client, writeFp };
}

function isCode(code: string) {
  return (err: unknown) => {
    assert.ok(err instanceof VolactError, `expected a VolactError, got ${String(err)}`);
    assert.equal(err.code, code);
    return true;
  };
}

/** Changes one character of a base64url string at `index` to another base64url character. */
function flipChar(text: string, index: number): string {
  const c = text[index]!;
  const replacement = c === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('Client keys', () => {
  test('installKey refuses a host key with KEY_HOST_ON_CLIENT and installs nothing', () => {
    const { client } = world({ install: false });
    const hostKey = mintKey(secret, 'host', 1, 123n);
    assert.throws(() => client.installKey(hostKey), isCode('KEY_HOST_ON_CLIENT'));
    assert.equal(client.state().key, null);
    assert.equal(client.license().state, 'unlicensed');
  });

  test('installKey reports a mistyped character and a swap of neighbours as KEY_TYPO', () => {
    const { client } = world({ install: false });
    const compact = setupKey.replace(/-/g, '');
    const d = KEY_ALPHABET.indexOf(compact[3]!);
    const mistyped = compact.slice(0, 3) + KEY_ALPHABET[(d + 1) % KEY_ALPHABET.length]! + compact.slice(4);
    assert.throws(() => client.installKey(mistyped), isCode('KEY_TYPO'));
    const i = [...compact].findIndex((c, k) => k < 23 && c !== compact[k + 1]);
    const swapped = compact.slice(0, i) + compact[i + 1]! + compact[i]! + compact.slice(i + 2);
    assert.throws(() => client.installKey(swapped), isCode('KEY_TYPO'));
    assert.equal(client.state().key, null);
  });

  test('a setup key installs and starts initial grace; it is accepted in lower case without hyphens', () => {
    const { client, clock } = world({ install: false });
    assert.equal(client.license().state, 'unlicensed');
    const s = client.installKey(setupKey.toLowerCase().replace(/-/g, ''));
    assert.equal(s.key?.keyClass, 'setup');
    assert.equal(s.key?.edition, EDITION);
    assert.equal(s.key?.text, setupKey);
    assert.equal(s.key?.partial, setupKey.slice(-5));
    const view = client.license();
    assert.equal(view.state, 'initialGrace');
    assert.equal(view.endsAt, clock.now() + defaults.initialGraceMs);
    assert.equal(client.details().channel, 'VOLUME_HOSTCLIENT');
  });
});

describe('Client DNS server setting', () => {
  test('is stored, checked before anything changes, shown in -dlv, and cleared back to the system resolver', () => {
    const { client, dir, clock, env } = world({ install: false });
    assert.deepEqual([client.details().dnsServer, client.details().dnsServerFrom], [null, null]);
    client.setDnsServer('[fd00::53]:5353');
    assert.equal(
      new Client({ dir, clock, env }).state().discovery.dnsServer,
      '[fd00::53]:5353',
      'stored in state.json',
    );
    assert.deepEqual([client.details().dnsServer, client.details().dnsServerFrom], ['[fd00::53]:5353', 'setting']);
    assert.throws(() => client.setDnsServer('ns1.example.com'), isCode('USAGE'));
    assert.throws(() => client.setDnsServer('10.0.0.53:70000'), isCode('VALUE_OUT_OF_RANGE'));
    assert.equal(client.state().discovery.dnsServer, '[fd00::53]:5353', 'a refused value changes nothing');
    const overridden = new Client({ dir, clock, env: { ...env, VOLACT_DNS_SERVER: '127.0.0.1:5300' } });
    assert.deepEqual(
      [overridden.details().dnsServer, overridden.details().dnsServerFrom],
      ['127.0.0.1:5300', 'VOLACT_DNS_SERVER'],
    );
    client.setDnsServer(null);
    assert.equal(client.state().discovery.dnsServer, null);
  });

  test('a host found through another DNS server is not kept as the cached host', () => {
    const { client, dir } = world({ install: false });
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    state.discovery.lastHost = { host: '10.0.0.21', port: 1688 };
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    assert.deepEqual(client.setDnsServer('10.0.0.53').discovery.lastHost, null);
  });

  test('a state.json from before the setting reads as the system resolver; a damaged value is STATE_CORRUPT', () => {
    const { client, dir } = world({ install: false });
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    delete state.discovery.dnsServer;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    assert.equal(client.state().discovery.dnsServer, null);
    state.discovery.dnsServer = 53;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    assert.throws(() => client.state(), isCode('STATE_CORRUPT'));
  });
});

describe('Client activation against a host', () => {
  test('count insufficient returns the count and required count, and the license stays in initial grace', async () => {
    const { client, host } = world();
    host.kind = 'countInsufficient';
    host.count = 12;
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'countInsufficient');
    assert.ok(outcome.kind === 'countInsufficient');
    assert.equal(outcome.count, 12);
    assert.equal(outcome.required, 25);
    assert.equal(outcome.retryMinutes, 30);
    assert.equal(outcome.host, '10.0.0.5:1688');
    assert.equal(client.license().state, 'initialGrace');
    const s = client.state();
    assert.deepEqual(
      s.lastAnswer && { kind: s.lastAnswer.kind, count: s.lastAnswer.count, required: s.lastAnswer.required },
      { kind: 'countInsufficient', count: 12, required: 25 },
    );
    assert.equal(s.lastAttempt?.ok, false);
  });

  test('the request carries the machine ID, a fresh nonce, the setup key and the current license state', async () => {
    const { client, host, clock } = world();
    host.kind = 'countInsufficient';
    await client.activate();
    await client.activate();
    const [a, b] = host.requests.map((r) => r.req);
    assert.ok(a && b);
    assert.equal(a.machineId, client.state().machine.id);
    assert.equal(a.setupKey, setupKey);
    assert.equal(a.licenseState, 'initialGrace');
    assert.equal(a.clientTime, clock.now());
    assert.notEqual(a.nonce, b.nonce);
  });

  test('a grant makes the machine licensed; details show the host, validUntil and the intervals the host pushed', async () => {
    const { client, host, clock, env } = world();
    host.renewalMinutes = 60;
    host.retryMinutes = 30;
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'activated');
    const view = client.license();
    assert.equal(view.state, 'licensed');
    assert.equal(view.endsAt, T0 + 180 * DAY);
    const d = client.details();
    assert.equal(d.licenseState, 'licensed');
    assert.equal(d.activatedBy?.hostName, host.hostName);
    assert.equal(d.activatedBy?.hostId, host.hostId);
    assert.equal(d.activatedBy?.address, '10.0.0.5:1688');
    assert.equal(d.validUntil, new Date(T0 + 180 * DAY).toISOString());
    assert.equal(d.endsAt, new Date(T0 + 180 * DAY).toISOString());
    assert.deepEqual(d.edition, { number: EDITION, code: 'pro', name: 'Example Pro' });
    assert.equal(d.renewalMinutes, 60);
    assert.equal(d.retryMinutes, 30);
    assert.deepEqual(client.state().intervals, { renewalMinutes: 60, retryMinutes: 30 });
    assert.deepEqual(client.state().lastAttempt, { at: clock.now(), ok: true });
    // the intervals survive a restart of the client (new instance, same directory)
    const again = new Client({ dir: client.dir, clock, env });
    assert.deepEqual(again.state().intervals, { renewalMinutes: 60, retryMinutes: 30 });
    assert.equal(again.license().state, 'licensed');
  });

  test('a renewal returns "renewed" and slides validUntil to 180 days after the renewal', async () => {
    const { client, clock } = world();
    await client.activate();
    clock.advance(7 * DAY);
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'renewed');
    const view = client.license();
    assert.equal(view.state, 'licensed');
    assert.equal(view.endsAt, T0 + 187 * DAY);
    clock.set(T0 + 183 * DAY);
    assert.equal(client.license().state, 'licensed');
  });

  test('a licensed machine runs into ootGrace after validUntil and into notification 30 days later', async () => {
    const { client, clock } = world();
    await client.activate();
    clock.set(T0 + 180 * DAY);
    assert.equal(client.license().state, 'ootGrace');
    clock.set(T0 + 210 * DAY);
    assert.equal(client.license().state, 'notification');
  });

  test('a signed refusal returns "refused" with its code and does not license the machine', async () => {
    const { client, host } = world();
    host.kind = 'refusal';
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'refused');
    assert.ok(outcome.kind === 'refused');
    assert.equal(outcome.code, 'EDITION_NOT_COVERED');
    assert.equal(client.license().state, 'initialGrace');
  });

  test('a grant for another machine ID is rejected with ANSWER_MACHINE_MISMATCH and nothing is stored', async () => {
    const { client, host, clock, dir } = world();
    await client.activate();
    const licenseBefore = readFileSync(join(dir, 'license.json'), 'utf8');
    const viewBefore = client.license();
    clock.advance(DAY);
    host.override = (req) => host.answer({ ...req, machineId: 'someone-else' }, 'grant');
    await assert.rejects(client.activate(), isCode('ANSWER_MACHINE_MISMATCH'));
    assert.equal(readFileSync(join(dir, 'license.json'), 'utf8'), licenseBefore);
    const viewAfter = client.license();
    assert.equal(viewAfter.state, 'licensed');
    assert.equal(viewAfter.endsAt, viewBefore.endsAt);
    assert.equal(client.state().lastAttempt?.ok, false);
  });

  test('a grant for another machine ID on an unactivated machine leaves it in initial grace', async () => {
    const { client, host } = world();
    host.override = (req) => host.answer({ ...req, machineId: 'someone-else' }, 'grant');
    await assert.rejects(client.activate(), isCode('ANSWER_MACHINE_MISMATCH'));
    assert.equal(client.license().state, 'initialGrace');
    assert.equal(client.details().activatedBy, null);
  });

  test('a grant for this machine ID but another fingerprint is rejected with ANSWER_MACHINE_MISMATCH', async () => {
    const { client, host } = world();
    host.override = (req) => host.answer(req, 'grant', { fingerprintHash: 'f'.repeat(43) });
    await assert.rejects(client.activate(), isCode('ANSWER_MACHINE_MISMATCH'));
    assert.equal(client.license().state, 'initialGrace');
  });

  test('a replayed old answer (old nonce) is rejected with ANSWER_REPLAYED and does not renew', async () => {
    const { client, host, clock } = world();
    await client.activate();
    const old = host.answers[0]!;
    clock.advance(170 * DAY);
    host.override = () => old;
    await assert.rejects(client.activate(), isCode('ANSWER_REPLAYED'));
    assert.equal(client.license().endsAt, T0 + 180 * DAY);
    const rejected = readEvents(client.dir).filter((e) => e.event === 12289 && e.outcome === 'rejected');
    assert.equal(rejected.length, 1);
    assert.equal(rejected[0]!.code, 'ANSWER_REPLAYED');
  });

  test('an answer signed by a self-made host (chain to another root) is refused', async () => {
    const { client, clock, env } = world();
    const rogue = new FakeHost(clock);
    const sameMachineRogueHost = new Client({ dir: client.dir, clock, env, post: rogue.post });
    await assert.rejects(sameMachineRogueHost.activate(), isCode('CHAIN_UNTRUSTED_ROOT'));
    assert.equal(client.license().state, 'initialGrace');
  });

  test('a changed character in the stored answer on disk drops the state to initial grace, and -dlv names the damaged file', async () => {
    const { client, dir } = world();
    await client.activate();
    assert.equal(client.license().state, 'licensed');
    const path = join(dir, 'license.json');
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { bundle: HostAnswerBundle };
    const [h, p, s] = stored.bundle.answer.split('.') as [string, string, string];
    stored.bundle.answer = [h, flipChar(p, Math.floor(p.length / 2)), s].join('.');
    writeFileSync(path, JSON.stringify(stored));
    const view = client.license();
    assert.equal(view.state, 'initialGrace');
    assert.match(view.reason, /license\.json cannot be read: its signed content does not verify/);
    assert.throws(
      () => client.details(),
      (e: VolactError) => e.code === 'STATE_CORRUPT' && e.params.file === path,
    );
  });

  test('a license.json that is no longer JSON is STATE_CORRUPT for -dlv, counts as no grant, and activation replaces it', async () => {
    const { client, dir } = world();
    await client.activate();
    const path = join(dir, 'license.json');
    const text = readFileSync(path, 'utf8');
    writeFileSync(path, '[' + text.slice(1));
    assert.equal(client.license().state, 'initialGrace');
    assert.throws(
      () => client.details(),
      (e: VolactError) => e.code === 'STATE_CORRUPT' && e.params.file === path,
    );
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'activated');
    assert.equal(client.license().state, 'licensed');
    assert.equal(client.details().licenseState, 'licensed');
  });

  test("another machine's license.json copied in does not count, and the reason says whose it is", async () => {
    const a = world();
    const b = world({ host: a.host, clock: a.clock });
    await a.client.activate();
    copyFileSync(join(a.dir, 'license.json'), join(b.dir, 'license.json'));
    const view = b.client.license();
    assert.equal(view.state, 'initialGrace');
    assert.match(
      view.reason,
      new RegExp(
        `issued to another machine \\(${a.client.state().machine.id}\\), not to this one \\(${b.client.state().machine.id}\\)`,
      ),
    );
    const d = b.client.details();
    assert.equal(d.licenseState, 'initialGrace');
    assert.equal(d.activatedBy, null);
  });

  test('a damaged root.pub is STATE_CORRUPT for -dlv, naming root.pub', async () => {
    const { client, dir } = world();
    await client.activate();
    writeFileSync(join(dir, 'root.pub'), '-----BEGIN PUBLIC KEY-----\nbroken\n-----END PUBLIC KEY-----\n');
    assert.throws(
      () => client.details(),
      (e: VolactError) => e.code === 'STATE_CORRUPT' && e.params.file === join(dir, 'root.pub'),
    );
    assert.equal(client.license().state, 'initialGrace');
  });

  test('a stored grant whose validUntil is edited (re-encoded, signature kept) is not trusted', async () => {
    const { client, dir } = world();
    await client.activate();
    const path = join(dir, 'license.json');
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { bundle: HostAnswerBundle };
    const [h, p, s] = stored.bundle.answer.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { validUntil: number };
    payload.validUntil += 3650 * DAY;
    stored.bundle.answer = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
    writeFileSync(path, JSON.stringify(stored));
    assert.equal(client.license().state, 'initialGrace');
  });
});

describe('Client machine identity', () => {
  test('a clone (another OS machine identity) gets a new machine ID, loses the license and logs machineIdRenewed', async () => {
    const w = world();
    await w.client.activate();
    const oldId = w.client.state().machine.id;
    assert.equal(w.client.license().state, 'licensed');
    w.writeFp({ ...baseFingerprint, osId: 'os-bbbbbbbbbbbbbbbb' });
    const view = w.client.license();
    assert.notEqual(view.state, 'licensed');
    assert.equal(view.state, 'initialGrace');
    const s = w.client.state();
    assert.notEqual(s.machine.id, oldId);
    assert.equal(s.machine.madeFor.osId, 'os-bbbbbbbbbbbbbbbb');
    assert.equal(s.lastAttempt, null);
    const renewed = readEvents(w.dir).filter((e) => e.event === 'machineIdRenewed');
    assert.equal(renewed.length, 1);
    assert.equal(renewed[0]!.oldMachineId, oldId);
    assert.equal(renewed[0]!.machineId, s.machine.id);
    // the clone asks as the machine it is
    await w.client.activate();
    const last = w.host.requests.at(-1)!.req;
    assert.equal(last.machineId, s.machine.id);
    assert.notEqual(last.fingerprintHash, w.host.requests[0]!.req.fingerprintHash);
    assert.equal(w.client.license().state, 'licensed');
    assert.equal(readEvents(w.dir).filter((e) => e.event === 'machineIdRenewed').length, 1);
  });

  test('a replaced disk (same OS identity) keeps the machine ID and the license', async () => {
    const w = world();
    await w.client.activate();
    const id = w.client.state().machine.id;
    w.writeFp({ ...baseFingerprint, disks: ['disk-serial-1', 'disk-serial-NEW'] });
    assert.equal(w.client.license().state, 'licensed');
    const s = w.client.state();
    assert.equal(s.machine.id, id);
    assert.deepEqual(s.machine.madeFor.disks, ['disk-serial-1', 'disk-serial-NEW']);
    assert.equal(readEvents(w.dir).filter((e) => e.event === 'machineIdRenewed').length, 0);
  });

  test('rearm gives a new machine ID and fresh initial grace five times, then fails with REARM_LIMIT', async () => {
    const { client, clock } = world();
    await client.activate();
    const ids = new Set([client.state().machine.id]);
    for (let i = 1; i <= defaults.rearmLimit; i++) {
      clock.advance(DAY);
      const s = client.rearm();
      ids.add(s.machine.id);
      assert.equal(s.rearmsUsed, i);
      assert.equal(s.graceStart, clock.now());
      const view = client.license();
      assert.equal(view.state, 'initialGrace');
      assert.equal(view.endsAt, clock.now() + defaults.initialGraceMs);
    }
    assert.equal(ids.size, defaults.rearmLimit + 1);
    assert.equal(client.details().rearmsLeft, 0);
    const idBefore = client.state().machine.id;
    assert.throws(() => client.rearm(), isCode('REARM_LIMIT'));
    assert.equal(client.state().machine.id, idBefore);
  });

  test('an explicit identity gives the same machine ID in two different state directories', () => {
    const a = world({ install: false });
    const b = world({ install: false });
    b.writeFp({ ...baseFingerprint, osId: 'os-cccccccccccccccc', disks: ['other'] });
    assert.notEqual(a.client.state().machine.id, b.client.state().machine.id);
    const ida = a.client.setIdentity('vdi-pool-07').machine.id;
    const idb = b.client.setIdentity('vdi-pool-07').machine.id;
    assert.equal(ida, idb);
    assert.equal(a.client.state().machine.id, ida);
    assert.equal(b.client.state().machine.identity, 'vdi-pool-07');
    assert.notEqual(a.client.setIdentity('vdi-pool-08').machine.id, ida);
  });

  test('with an explicit identity a changed OS identity is not taken for a clone', async () => {
    const w = world();
    const id = w.client.setIdentity('vdi-pool-07').machine.id;
    await w.client.activate();
    w.writeFp({ ...baseFingerprint, osId: 'os-rebuilt-image' });
    assert.equal(w.client.state().machine.id, id);
    assert.equal(w.client.license().state, 'licensed');
  });
});

describe('Client events and trusted time', () => {
  test('each attempt writes a 12288 request event and a 12289 answer event', async () => {
    const { client, host } = world();
    host.kind = 'countInsufficient';
    host.count = 12;
    await client.activate();
    host.kind = 'grant';
    host.count = 25;
    await client.activate();
    const events = readEvents(client.dir).filter((e) => e.event === 12288 || e.event === 12289);
    assert.deepEqual(
      events.map((e) => e.event),
      [12288, 12289, 12288, 12289],
    );
    const id = client.state().machine.id;
    const [req1, ans1, req2, ans2] = events as [
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
      Record<string, unknown>,
    ];
    assert.equal(req1.machineId, id);
    assert.equal(req1.licenseState, 'initialGrace');
    assert.equal(req1.edition, EDITION);
    assert.equal(req1.host, '10.0.0.5:1688');
    assert.equal(ans1.outcome, 'countInsufficient');
    assert.equal(ans1.count, 12);
    assert.equal(ans1.required, 25);
    assert.equal(ans1.renewalMinutes, 60);
    assert.equal(ans1.retryMinutes, 30);
    assert.equal(req2.licenseState, 'initialGrace');
    assert.equal(ans2.outcome, 'grant');
    assert.equal(ans2.machineId, id);
    assert.equal(typeof ans2.at, 'string');
  });

  test('setting the clock back after activation does not extend validity (highWater)', async () => {
    const { client, clock, env } = world();
    await client.activate();
    clock.set(T0 + 185 * DAY);
    assert.equal(client.license().state, 'ootGrace');
    clock.set(T0 + 10 * DAY);
    const view = client.license();
    assert.equal(view.state, 'ootGrace');
    assert.equal(view.trustedNow, T0 + 185 * DAY);
    assert.equal(view.endsAt, T0 + 210 * DAY);
    // a client restarted with the clock still set back sees the same
    const restarted = new Client({ dir: client.dir, clock, env });
    assert.equal(restarted.license().state, 'ootGrace');
    clock.set(T0 + 215 * DAY);
    assert.equal(client.license().state, 'notification');
    clock.set(T0 + 20 * DAY);
    assert.equal(client.license().state, 'notification');
  });

  test('a clock once set forward by mistake stops counting after the next verified answer', async () => {
    const { client, clock } = world();
    clock.set(T0 + 400 * DAY);
    client.state();
    clock.set(T0 + DAY);
    assert.equal(client.license().state, 'notification');
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'activated');
    assert.equal(client.license().state, 'licensed');
  });

  test('a clock refusal from a host far ahead does not move trusted time', async () => {
    const { client, host, clock } = world();
    host.kind = 'refusal';
    host.skewMs = 10 * DAY;
    host.override = (req) => host.answer(req, 'refusal', { code: 'CLOCK_SKEW' });
    const outcome = await client.activate();
    assert.equal(outcome.kind, 'refused');
    assert.equal(client.state().highWater, 0);
    assert.equal(client.license().trustedNow, clock.now());
  });

  test('setting the clock back does not reopen an expired initial grace', () => {
    const { client, clock } = world();
    clock.set(T0 + 31 * DAY);
    assert.equal(client.license().state, 'notification');
    clock.set(T0 + 2 * DAY);
    assert.equal(client.license().state, 'notification');
  });

  test('host-signed time ahead of the local clock raises the trusted time', async () => {
    const { client, host, clock } = world();
    host.skewMs = 3 * HOUR;
    await client.activate();
    assert.equal(client.state().highWater, clock.now() + 3 * HOUR);
    assert.equal(client.license().trustedNow, clock.now() + 3 * HOUR);
  });

  test('an answer signed more than 4 hours off the local clock is rejected with CLOCK_SKEW', async () => {
    const { client, host } = world();
    host.skewMs = 5 * HOUR;
    await assert.rejects(client.activate(), isCode('CLOCK_SKEW'));
    assert.equal(client.license().state, 'initialGrace');
  });
});

/** An issuing key of `purpose` certified by `root`, as the authority's are. */
function issuerOf(root: KeyPair, purpose: 'catalog' | 'mak-grant'): { pair: KeyPair; jws: string } {
  const pair = generateKeyPair(`iss-${purpose}`);
  const jws = signDocument(root, docTypes.issuer, 1, {
    kid: pair.kid,
    purpose,
    publicKey: rawPublicKey(pair.publicKey),
    root: root.kid,
    notBefore: T0 - DAY,
    notAfter: T0 + 2 * 365 * DAY,
  });
  return { pair, jws };
}

/** The authority's GET /v1/catalog, signed under `root`. */
function catalogAnswer(root: KeyPair): { catalog: string; issuer: string } {
  const issuer = issuerOf(root, 'catalog');
  const catalog: Catalog = {
    serial: 3,
    issuedAt: T0,
    products: [{ code: 'example', name: 'Example' }],
    editions: [{ number: EDITION, code: 'pro', name: 'Example Pro', product: 'example', kind: 'client', setupKey }],
    groups: [{ number: 1, code: 'client-2026', name: 'Client 2026', kind: 'client', editions: [EDITION] }],
  };
  return { catalog: signDocument(issuer.pair, docTypes.catalog, 1, catalog), issuer: issuer.jws };
}

describe('Client edition names', () => {
  test('before any answer, with only root.pub pinned, the edition has its number and no name', () => {
    const { client } = world();
    assert.deepEqual(client.details().edition, { number: EDITION, code: null, name: null });
  });

  test('a count-insufficient answer names the edition from the host certificate it carries', async () => {
    const { client, host } = world();
    host.kind = 'countInsufficient';
    await client.activate();
    assert.equal(client.license().state, 'initialGrace');
    assert.deepEqual(client.details().edition, { number: EDITION, code: 'pro', name: 'Example Pro' });
  });

  test('a stored host certificate that no longer verifies names nothing', async () => {
    const { client, host, dir } = world();
    host.kind = 'countInsufficient';
    await client.activate();
    const path = join(dir, 'state.json');
    const s = JSON.parse(readFileSync(path, 'utf8'));
    const [h, payload, sig] = s.hostCertificate.certificate.split('.');
    const cert = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    cert.editions[0].name = 'Example Ultimate';
    s.hostCertificate.certificate = [h, Buffer.from(JSON.stringify(cert)).toString('base64url'), sig].join('.');
    writeFileSync(path, JSON.stringify(s));
    assert.deepEqual(client.details().edition, { number: EDITION, code: null, name: null });
  });

  test('a catalog fetched from the authority names the edition before any activation', async () => {
    const host = new FakeHost(new ManualClock(T0));
    const asked: string[] = [];
    const get: Get = async (url) => (asked.push(url), { status: 200, body: catalogAnswer(host.root) });
    const { dir, env, clock } = world({ host });
    const client = new Client({ dir, clock, env, post: host.post, getAuthority: get });
    assert.equal(await client.fetchCatalog('http://authority.test/'), 3);
    assert.deepEqual(asked, ['http://authority.test/v1/catalog']);
    assert.deepEqual(client.details().edition, { number: EDITION, code: 'pro', name: 'Example Pro' });
  });

  test('a catalog signed under another root is refused and not kept', async () => {
    const { dir, env, clock, host } = world();
    const foreign = generateKeyPair('root');
    const client = new Client({
      dir,
      clock,
      env,
      post: host.post,
      getAuthority: async () => ({ status: 200, body: catalogAnswer(foreign) }),
    });
    await assert.rejects(client.fetchCatalog('http://authority.test/'), isCode('CHAIN_UNTRUSTED_ROOT'));
    assert.ok(!existsSync(join(dir, 'catalog.json')));
    assert.equal(client.details().edition?.name, null);
  });
});

describe('Client MAK license', () => {
  const mak = mintKey(secret, 'mak', EDITION, 77n);

  /** A machine with the MAK installed that activates with an authority signing grants under the host's root. */
  function makMachine(host: FakeHost, clock: ManualClock, fpFile: string): { dir: string; client: Client } {
    const issuer = issuerOf(host.root, 'mak-grant');
    const postAuthority: Post = async (_url, body) => {
      const req = body as MakActivationRequest;
      const grant = signDocument(issuer.pair, docTypes.makGrant, 1, {
        makId: 'MAK-0a1b2c3d',
        machineId: req.machineId,
        nonce: req.nonce,
        edition: EDITION,
        editionCode: 'pro',
        editionName: 'Example Pro',
        parts: req.parts,
        issuedAt: clock.now(),
        activationsUsed: 1,
        activationsLimit: 5,
      });
      return { status: 200, body: { grant, issuer: issuer.jws } };
    };
    const dir = tempDir();
    const client = new Client({
      dir,
      clock,
      env: { VOLACT_FINGERPRINT_FILE: fpFile, VOLACT_AUTHORITY_URL: 'http://authority.test/' },
      post: host.post,
      postAuthority,
    });
    client.trust(host.rootPem());
    client.installKey(mak);
    return { dir, client };
  }

  test('a MAK license.json copied to another machine does not license it', async () => {
    const clock = new ManualClock(T0);
    const host = new FakeHost(clock);
    // the same hardware and the same MAK: only the machine ID tells the two machines apart
    const fpFile = join(tempDir(), 'fingerprint.json');
    writeFileSync(fpFile, JSON.stringify(baseFingerprint));
    const first = makMachine(host, clock, fpFile);
    assert.equal((await first.client.activate()).kind, 'makActivated');
    assert.equal(first.client.license().state, 'licensed');

    const second = makMachine(host, clock, fpFile);
    assert.notEqual(second.client.state().machine.id, first.client.state().machine.id);
    copyFileSync(join(first.dir, 'license.json'), join(second.dir, 'license.json'));
    assert.equal(second.client.license().state, 'initialGrace');
    assert.equal(second.client.details().mak, null);
    assert.equal(first.client.license().state, 'licensed');
  });
});
