import { memoryLog } from '@volact/io';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  Authority,
  KyselyAuthorityStore,
  initKeys,
  loadKeys,
  openAuthorityDb,
  sampleCatalogPath,
} from '@volact/authority';
import { DAY, HOUR, ManualClock, generateKeyPair, parseJws, type ActivateRequest, type Root } from '@volact/protocol';
import { Host } from './host.js';
import { openHostDb } from './host-store.js';

/** The host in-process with a fake clock: counting window, thresholds, decay, fingerprints. */
describe('activation host counting', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-host-unit-'));
  const clock = new ManualClock(Date.UTC(2026, 0, 10));
  let host: Host;
  let setup: Record<string, string>;
  let roots: Root[];

  before(async () => {
    initKeys(join(dir, 'auth'), clock.now());
    const keys = loadKeys(join(dir, 'auth'));
    roots = [keys.root];
    const authority = new Authority(
      keys,
      new KyselyAuthorityStore(await openAuthorityDb(join(dir, 'auth', 'a.db'))),
      clock,
    );
    const catalog = await authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'test');
    setup = Object.fromEntries(catalog.editions.map((e) => [e.code, e.setupKey]));
    host = new Host({
      db: openHostDb(join(dir, 'host.db')),
      clock,
      keyPair: generateKeyPair('host'),
      roots: [keys.root],
      hostName: 'unit-host',
      log: memoryLog(),
      postAuthority: async (_url, body) => {
        try {
          return { status: 200, body: await authority.activateHost(body as never) };
        } catch (err) {
          return { status: 409, body: { code: (err as { code: string }).code } };
        }
      },
    });
    host.setAuthority('http://authority.invalid');
    host.installKey((await authority.issueHostKey('server-2026', {}, 'test')).key);
    await host.activate();
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  const request = (
    edition: string,
    machineId = randomUUID(),
    extra: Partial<ActivateRequest> = {},
  ): ActivateRequest => ({
    v: 1,
    machineId,
    fingerprintHash: createHash('sha256').update(machineId).digest('base64url'),
    setupKey: setup[edition]!,
    nonce: randomBytes(18).toString('base64url'),
    clientTime: clock.now(),
    licenseState: 'initialGrace',
    vm: false,
    ...extra,
  });
  const ask = async (r: ActivateRequest) => {
    const answer = await host.activateClient(r, '127.0.0.1');
    if (answer.outcome === 'notActivated') throw new Error('the host answered that it is not activated');
    const { header, payload } = parseJws(answer.jws);
    return {
      outcome: answer.outcome,
      typ: header.typ,
      payload: payload as { count: number; required: number; validUntil?: number },
    };
  };

  it('counts client and server machines, physical and virtual, in one count', async () => {
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await ask(request(i % 2 ? 'server-standard' : 'desk-pro', undefined, { vm: i === 3 })));
    assert.deepEqual(
      answers.map((a) => a.payload.count),
      [1, 2, 3, 4],
    );
    assert.deepEqual(
      answers.map((a) => a.payload.required),
      [25, 5, 25, 5],
    );
    assert.ok(answers.every((a) => a.typ === 'volact.count-insufficient'));
    const fifth = await ask(request('server-datacenter'));
    assert.equal(fifth.typ, 'volact.grant');
    assert.equal(fifth.payload.validUntil, clock.now() + 180 * DAY);
    assert.equal(host.status().currentCount, 5);
  });

  it('does not count the same machine twice and answers requests that arrive together', async () => {
    const id = randomUUID();
    const both = await Promise.all([ask(request('desk-pro', id)), ask(request('desk-pro', id))]);
    assert.equal(both[0].payload.count, 6);
    assert.equal(both[1].payload.count, 6);
  });

  it('drops machines from the count 30 days after their last request, and refuses renewals below the threshold', async () => {
    const renewer = randomUUID();
    assert.equal((await ask(request('server-standard', renewer))).typ, 'volact.grant');
    clock.advance(20 * DAY);
    assert.equal(host.status().currentCount, 7);
    // only the renewer asks again; the others' requests are 30 days old ten days later
    assert.equal((await ask(request('server-standard', renewer, { licenseState: 'licensed' }))).typ, 'volact.grant');
    clock.advance(10 * DAY + HOUR);
    assert.equal(host.status().currentCount, 1);
    const renewal = await ask(request('server-standard', renewer, { licenseState: 'licensed' }));
    assert.equal(renewal.typ, 'volact.count-insufficient');
    assert.deepEqual([renewal.payload.count, renewal.payload.required], [1, 5]);
  });

  it('counts exactly at the edge of the 30-day window', async () => {
    clock.advance(31 * DAY);
    assert.equal(host.status().currentCount, 0);
    const t0 = clock.now();
    await ask(request('desk-pro'));
    clock.set(t0 + 30 * DAY - 1);
    assert.equal(host.status().currentCount, 1);
    clock.set(t0 + 30 * DAY + 1);
    assert.equal(host.status().currentCount, 0);
  });

  it('reports a machine ID seen with several fingerprints (a cloned image)', async () => {
    const id = randomUUID();
    await ask(request('desk-pro', id, { fingerprintHash: 'A'.repeat(43) }));
    await ask(request('desk-pro', id, { fingerprintHash: 'B'.repeat(43) }));
    assert.equal(host.status().machinesWithSeveralFingerprints, 1);
    assert.deepEqual(
      host.machines({ severalFingerprints: true }).map((m) => m.machineId),
      [id],
    );
  });

  it('records an event for every request with machine, VM flag, license state and outcome', async () => {
    const id = randomUUID();
    await ask(request('desk-pro', id, { vm: true, licenseState: 'ootGrace' }));
    const [e] = host.events({ machineId: id });
    assert.equal(e!.event, 12290);
    assert.equal(e!.vm, true);
    assert.equal(e!.licenseState, 'ootGrace');
    assert.equal(e!.outcome, 'countInsufficient');
    const status = host.status();
    assert.equal(status.requests.byLicenseState.ootGrace, 1);
  });

  it('retries a reactivation whose answer was lost without using another activation', async () => {
    let lose = true;
    let calls = 0;
    const relay = host as unknown as {
      postAuthority: (url: string, body: unknown) => Promise<{ status: number; body: unknown }>;
    };
    const real = relay.postAuthority;
    relay.postAuthority = async (url, body) => {
      calls++;
      const reply = await real(url, body);
      if (lose) {
        lose = false;
        throw new Error('connection reset'); // the authority counted it; the answer never arrived
      }
      return reply;
    };
    await assert.rejects(host.activate(true), (e: { code?: string }) => e.code === 'AUTHORITY_UNREACHABLE');
    const [again] = await host.activate(true);
    assert.equal(calls, 2);
    assert.equal(again!.activationsUsed, 2, 'the first activation and this one; the retry cost nothing');
    const [next] = await host.activate(true);
    assert.equal(next!.activationsUsed, 3, 'a new reactivation after an answered one costs one');
    relay.postAuthority = real;
  });

  it('finds a machine seen before a restart (a new Host on the same database): a renewal, not a second row', async () => {
    const id = randomUUID();
    await ask(request('desk-pro', id));
    const restarted = new Host({
      db: openHostDb(join(dir, 'host.db')),
      clock,
      keyPair: generateKeyPair('host'),
      roots,
      hostName: 'unit-host',
      log: memoryLog(),
    });
    const before = restarted.rowCounts().machines;
    clock.advance(HOUR);
    await restarted.activateClient(request('desk-pro', id, { licenseState: 'licensed' }), '127.0.0.1');
    assert.equal(restarted.rowCounts().machines, before, 'no second row for the machine');
    const row = restarted.machines({ limit: 1 })[0]!;
    assert.deepEqual([row.machineId, row.requests], [id, 2]);
  });

  it('refuses host settings out of range and keeps the old value', () => {
    for (const v of [0, 14, 43_201, -1, 1.5, Number.NaN]) {
      assert.throws(
        () => host.setSetting('retryMinutes', v),
        (e: { code?: string }) => e.code === 'VALUE_OUT_OF_RANGE',
      );
    }
    assert.equal(host.settings.retryMinutes, 120);
  });
});
