import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import {
  DAY,
  MINUTE,
  ManualClock,
  defaults,
  docTypes,
  generateKeyPair,
  mintKey,
  publicKeyToPem,
  rawPublicKey,
  signDocument,
  type ActivateRequest,
} from '@volact/protocol';
import { runAgent } from './agent.js';
import { Client } from './client.js';
import type { HostTarget } from './transport.js';

const T0 = Date.UTC(2026, 0, 1);
const EDITION = 101;
const RETRY = 45;
const RENEWAL = 600;

const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

type Reply = 'grant' | 'countInsufficient' | 'unreachable';

/** An activation host with a real chain to a test root; answers follow `script`, then `then`. */
function fakeHost(clock: ManualClock, script: Reply[], then: Reply = 'grant') {
  const root = generateKeyPair('root');
  const issuerPair = generateKeyPair('iss-host-cert');
  const hostPair = generateKeyPair('host');
  const issuer = signDocument(root, docTypes.issuer, 1, {
    kid: issuerPair.kid,
    purpose: 'host-cert',
    publicKey: rawPublicKey(issuerPair.publicKey),
    root: root.kid,
    notBefore: T0 - DAY,
    notAfter: T0 + 2 * 365 * DAY,
  });
  const certificate = signDocument(issuerPair, docTypes.hostCert, 1, {
    hostId: 'H-agent',
    hostKeyId: 'HK-1',
    hostPublicKey: rawPublicKey(hostPair.publicKey),
    hostName: 'kms-agent',
    group: 'client-2026',
    editions: [{ number: EDITION, code: 'pro', name: 'Example Pro', kind: 'client' }],
    issuedAt: T0,
    notAfter: null,
    activation: 1,
  });
  const attempts: { at: number; reply: Reply }[] = [];
  const post = async (_target: HostTarget, req: ActivateRequest): Promise<{ status: number; body: unknown }> => {
    const reply = script[attempts.length] ?? then;
    attempts.push({ at: clock.now(), reply });
    if (reply === 'unreachable') throw new Error('connect ECONNREFUSED');
    const now = clock.now();
    const common = {
      machineId: req.machineId,
      nonce: req.nonce,
      edition: EDITION,
      hostId: 'H-agent',
      hostName: 'kms-agent',
      issuedAt: now,
      count: reply === 'grant' ? 25 : 24,
      required: 25,
      renewalMinutes: RENEWAL,
      retryMinutes: RETRY,
    };
    const answer =
      reply === 'grant'
        ? signDocument(hostPair, docTypes.grant, 1, {
            ...common,
            fingerprintHash: req.fingerprintHash,
            validUntil: now + defaults.validityMs,
          })
        : signDocument(hostPair, docTypes.countInsufficient, 1, common);
    return { status: 200, body: { answer, certificate, issuer } };
  };
  return { rootPem: publicKeyToPem(root.publicKey), post, attempts };
}

function setup(script: Reply[], opts: { then?: Reply; install?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'volact-agent-test-'));
  tmpRoots.push(dir);
  const fpFile = join(dir, 'fingerprint.json');
  writeFileSync(
    fpFile,
    JSON.stringify({ osId: 'os-agent-1', cpu: 'cpu', board: 'board', disks: ['d1'], nics: ['52:54:00:00:00:09'] }),
  );
  const clock = new ManualClock(T0);
  const host = fakeHost(clock, script, opts.then);
  const client = new Client({
    dir: join(dir, 'state'),
    clock,
    env: { VOLACT_FINGERPRINT_FILE: fpFile },
    post: host.post,
  });
  client.trust(host.rootPem);
  client.setKms({ host: '127.0.0.1', port: 1688 });
  if (opts.install ?? true) client.installKey(mintKey(randomBytes(32), 'setup', EDITION, 5n));
  const lines: Record<string, unknown>[] = [];
  /** The log lines about attempts (the agent may also log that it started). */
  const log = {
    get attempts() {
      return lines.filter((l) => 'outcome' in l);
    },
  };
  let sleeps = 0;
  const run = (stopWhen: () => boolean) =>
    runAgent(client, clock, {
      // a fake sleep: the clock jumps, nothing waits
      sleep: async (ms) => {
        sleeps++;
        clock.advance(ms);
      },
      log: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
      // the safety cap keeps a broken agent from looping forever
      stop: () => stopWhen() || sleeps > 1_000_000,
    });
  return { client, clock, host, log, run, sleepCount: () => sleeps };
}

const minutesAfter = (times: number[]) => times.map((t) => (t - times[0]!) / MINUTE);

describe('runAgent', () => {
  test('attempts are a retry interval apart while the count is insufficient, then a renewal interval apart after the grant', async () => {
    const { client, host, log, run, sleepCount } = setup(['countInsufficient', 'countInsufficient'], { then: 'grant' });
    await run(() => host.attempts.length >= 5);
    assert.ok(sleepCount() < 1_000_000, 'the agent stopped through stop(), not the safety cap');
    assert.equal(host.attempts.length, 5);
    assert.deepEqual(minutesAfter(host.attempts.map((a) => a.at)), [
      0,
      RETRY,
      2 * RETRY,
      2 * RETRY + RENEWAL,
      2 * RETRY + 2 * RENEWAL,
    ]);
    assert.deepEqual(
      log.attempts.map((l) => l.outcome),
      ['countInsufficient', 'countInsufficient', 'activated', 'renewed', 'renewed'],
    );
    assert.equal(client.license().state, 'licensed');
    assert.deepEqual(client.state().intervals, { renewalMinutes: RENEWAL, retryMinutes: RETRY });
  });

  test('a renewal that fails is retried a retry interval later, not a renewal interval later', async () => {
    const { client, host, run } = setup(['grant', 'countInsufficient', 'countInsufficient'], { then: 'grant' });
    await run(() => host.attempts.length >= 5);
    assert.deepEqual(minutesAfter(host.attempts.map((a) => a.at)), [
      0,
      RENEWAL,
      RENEWAL + RETRY,
      RENEWAL + 2 * RETRY,
      2 * RENEWAL + 2 * RETRY,
    ]);
    assert.equal(client.license().state, 'licensed');
  });

  test('an unreachable host is retried every 2 hours (the default retry interval) and logged as HOST_UNREACHABLE', async () => {
    const { client, host, log, run } = setup([], { then: 'unreachable' });
    await run(() => host.attempts.length >= 4);
    assert.deepEqual(minutesAfter(host.attempts.map((a) => a.at)), [0, 120, 240, 360]);
    assert.deepEqual(
      log.attempts.map((l) => l.code),
      ['HOST_UNREACHABLE', 'HOST_UNREACHABLE', 'HOST_UNREACHABLE', 'HOST_UNREACHABLE'],
    );
    assert.equal(client.license().state, 'initialGrace');
  });

  test('without a key the agent logs KEY_NOT_INSTALLED once per retry interval and sends nothing', async () => {
    const { host, log, run, clock } = setup([], { install: false });
    await run(() => log.attempts.length >= 3);
    assert.equal(host.attempts.length, 0);
    assert.deepEqual(
      log.attempts.map((l) => l.code),
      ['KEY_NOT_INSTALLED', 'KEY_NOT_INSTALLED', 'KEY_NOT_INSTALLED'],
    );
    assert.deepEqual(minutesAfter(log.attempts.map((l) => Date.parse(String(l.at)))), [0, 120, 240]);
    assert.equal(clock.now(), T0 + 240 * MINUTE);
  });

  test('a clock set back after an attempt does not stall the agent', async () => {
    const { host, run, clock } = setup(['unreachable'], { then: 'countInsufficient' });
    clock.advance(400 * DAY); // set forward by mistake for the first attempt
    let setBack = false;
    await run(() => {
      if (host.attempts.length === 1 && !setBack) {
        setBack = true;
        clock.set(T0);
      }
      return host.attempts.length >= 3;
    });
    assert.deepEqual(minutesAfter(host.attempts.slice(1).map((a) => a.at)), [0, RETRY]);
    assert.ok(host.attempts[2]!.at < T0 + DAY, 'retried within a day of the corrected clock, not 400 days later');
  });

  test('stop() returning true at once means no attempt is made', async () => {
    const { host, log, run } = setup([]);
    await run(() => true);
    assert.equal(host.attempts.length, 0);
    assert.equal(log.attempts.length, 0);
  });
});
