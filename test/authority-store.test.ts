import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  ManualClock,
  encodeDirectoryValue,
  verifyDirectoryObject,
  decodeCode,
  encodeCode,
  makeInstallationId,
  offlineIssuer,
  verifyOfflineConfirmation,
  decodeKey,
  encodeKeyFields,
  generateKeyPair,
  hashedFingerprint,
  parseJws,
  rawPublicKey,
  verifyCatalog,
  verifyHostCert,
  verifyMakGrant,
  docTypes,
  hostIdFor,
  signDocument,
  signUsageReport,
  type HostActivationRequest,
  type UsageReport,
} from '@volact/protocol';
import {
  Authority,
  KyselyAuthorityStore,
  buildCatalog,
  certifyIssuer,
  initKeys,
  loadKeys,
  loadRootPair,
  openAuthorityDb,
  sampleCatalogPath,
} from '@volact/authority';
import { startPostgres, type Postgres } from '@volact/authority/testing';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
const sample = () => JSON.parse(readFileSync(sampleCatalogPath(), 'utf8'));
const verifyMakGrantUsed = (jws: string) => (parseJws(jws).payload as { activationsUsed: number }).activationsUsed;

/** One contract suite, run against every store the authority can use. */
for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`authority on ${backend}`, { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), `volact-auth-${backend}-`));
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    let pg: Postgres | undefined;
    let store: KyselyAuthorityStore;
    let authority: Authority;
    let keys: ReturnType<typeof loadKeys>;

    before(async () => {
      initKeys(join(dir, 'a'), clock.now());
      keys = loadKeys(join(dir, 'a'));
      if (backend === 'postgres') pg = await startPostgres();
      store = new KyselyAuthorityStore(await openAuthorityDb(pg ? pg.url : join(dir, 'a', 'authority.db')));
      authority = new Authority(keys, store, clock);
      await authority.importCatalog(sample(), 'test');
    });

    after(async () => {
      await store?.close();
      pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const hostRequest = (
      hostKey: string,
      pub = rawPublicKey(generateKeyPair('host').publicKey),
    ): HostActivationRequest => ({
      v: 1,
      hostKey,
      hostPublicKey: pub,
      hostName: 'h1',
      requestId: randomBytes(16).toString('base64url'),
    });
    const usedOf = async (id: string) => (await authority.listMaks()).find((m) => m.id === id)!.usedActivations;
    const usage = async (key: string) => (await authority.listHostKeys()).find((k) => key.endsWith(k.partial))!;

    it('keeps secrets in 0600 files and refuses to overwrite an authority', () => {
      for (const f of ['root.key', 'mint.secret', 'issuers/host-cert.key'])
        assert.equal(statSync(join(dir, 'a', f)).mode & 0o777, 0o600, f);
      assert.throws(() => initKeys(join(dir, 'a'), clock.now()), code('AUTHORITY_EXISTS'));
    });

    it('answers a retry after a lost answer with the same certificate and uses nothing', async () => {
      const key = (await authority.issueHostKey('desk-2026', {}, 'test')).key;
      const req = hostRequest(key);
      const first = await authority.activateHost(req);
      const retry = await authority.activateHost(req);
      assert.equal(retry.certificate, first.certificate);
      assert.equal(retry.activationsUsed, 1);
      const row = await usage(key);
      assert.deepEqual([row.hostsUsed, row.usedActivations], [1, 1]);
      const again = await authority.activateHost({ ...req, requestId: randomBytes(16).toString('base64url') });
      assert.deepEqual(
        [again.hostsUsed, again.activationsUsed],
        [1, 2],
        'the same host reactivating uses an activation, not a host slot',
      );
      await assert.rejects(
        authority.activateHost({ ...hostRequest(key), requestId: req.requestId }),
        code('BAD_REQUEST'),
      );
    });

    it('activates a directory like a host: one slot per directory, one activation per object, retries free', async () => {
      const key = (await authority.issueHostKey('server-2026', { maxHosts: 2, maxActivations: 3 }, 'test')).key;
      const directoryId = '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a';
      const req = (name: string, id = directoryId) => ({
        v: 1 as const,
        hostKey: key,
        directoryId: id,
        directoryKind: 'openldap' as const,
        suffix: 'dc=example,dc=com',
        name,
        requestId: randomBytes(16).toString('base64url'),
      });
      const first = req('office');
      const a = await authority.activateDirectory(first);
      const retry = await authority.activateDirectory(first);
      assert.equal(retry.object, a.object, 'a retry after a lost answer gets the same object');
      const value = encodeDirectoryValue({ v: 1, object: a.object, issuer: a.issuer });
      const v = verifyDirectoryObject(value, [keys.root], { directoryId, name: 'office' });
      assert.deepEqual(
        [v.name, v.group, v.activation, v.editions.map((e) => e.code).includes('server-standard')],
        ['office', 'server-2026', 1, true],
      );
      assert.throws(
        () =>
          verifyDirectoryObject(value, [keys.root], {
            directoryId: '7b1d9e2c-5a4f-4e3b-8c2d-1a0f9e8d7c6b',
            name: 'office',
          }),
        code('DIRECTORY_OBJECT_FOREIGN'),
      );
      const b = await authority.activateDirectory(req('branch'));
      assert.deepEqual(
        [b.hostsUsed, b.activationsUsed],
        [1, 2],
        'a second object in the same directory: an activation, not a slot',
      );
      await authority.activateDirectory(req('other', '7b1d9e2c-5a4f-4e3b-8c2d-1a0f9e8d7c6b'));
      await assert.rejects(
        authority.activateDirectory(req('third', 'aaaaaaaa-1f2d-4c8e-9a6b-3d2f1e0c9b8a')),
        code('KEY_LIMIT_HOSTS'),
      );
      await assert.rejects(authority.activateDirectory(req('more')), code('KEY_LIMIT_ACTIVATIONS'));
      await assert.rejects(
        authority.activateDirectory({
          ...req('office'),
          requestId: first.requestId,
          directoryId: '7b1d9e2c-5a4f-4e3b-8c2d-1a0f9e8d7c6b',
        }),
        code('BAD_REQUEST'),
        'a request ID names one directory',
      );
      const row = await usage(key);
      assert.deepEqual([row.hostsUsed, row.usedActivations], [2, 3]);
      // the offline route: a directory installation ID, confirmed once however often it is asked
      const offlineKey = (await authority.issueHostKey('server-2026', {}, 'test')).key;
      const iid = makeInstallationId(decodeKey(offlineKey), { type: 'directory', directoryId }).text;
      const c1 = await authority.confirmOffline(iid, 'cli:test');
      const c2 = await authority.confirmOffline(iid, 'cli:test');
      assert.deepEqual([c1.type, c1.used, c2.used], ['directory', 1, 1]);
    });

    it('certifies the host key pair and exactly the editions of its product group', async () => {
      const req = hostRequest((await authority.issueHostKey('desk-2026', {}, 'test')).key);
      const answer = await authority.activateHost(req);
      const { cert } = verifyHostCert(answer.certificate, answer.issuer, [keys.root], clock.now());
      assert.equal(cert.hostPublicKey, req.hostPublicKey);
      assert.equal(cert.notAfter, null);
      assert.deepEqual(
        cert.editions.map((e) => e.code),
        ['desk-pro', 'desk-enterprise', 'desk-education'],
      );
    });

    it('stores a usage report from a host it activated once, and refuses one from a host it never activated', async () => {
      const pair = generateKeyPair('host');
      const answer = await authority.activateHost(
        hostRequest((await authority.issueHostKey('server-2026', {}, 'test')).key, rawPublicKey(pair.publicKey)),
      );
      const { cert } = verifyHostCert(answer.certificate, answer.issuer, [keys.root], clock.now());
      const now = clock.now();
      const report = (hostId: string, over: Partial<UsageReport> = {}): UsageReport => ({
        hostId,
        groups: ['server-2026'],
        from: '2026-02-01',
        to: '2026-02-28',
        coveredFrom: Date.UTC(2026, 1, 1),
        coveredTo: Date.UTC(2026, 2, 1),
        months: [{ month: '2026-02', editions: [], peak: null }],
        peak: null,
        generatedAt: now,
        ...over,
      });
      const file = signUsageReport(pair, report(cert.hostId), [
        { certificate: answer.certificate, issuer: answer.issuer },
      ]);
      const before = await store.rowCounts();
      const first = await authority.receiveUsageReport(file, 'token:t1');
      assert.equal(first.outcome, 'stored');
      const again = await authority.receiveUsageReport(JSON.parse(JSON.stringify(file)), 'token:t2');
      assert.equal(again.outcome, 'alreadyStored');
      assert.equal(again.report.id, first.report.id);
      assert.equal(again.report.receivedBy, 'token:t1', 'the first upload is the one kept');
      const listed = await authority.usageReports();
      assert.deepEqual(listed.find((r) => r.id === first.report.id)?.report, report(cert.hostId));
      const after = await store.rowCounts();
      assert.equal(after.usageReports, before.usageReports! + 1);
      assert.equal(after.auditLog, before.auditLog! + 1, 'audited once, with the write');

      // the same root, but a certificate this authority's database has no activation for
      const stranger = generateKeyPair('host');
      const issuing = keys.issuers.get('host-cert')!;
      const strangerCert = signDocument(issuing.pair, docTypes.hostCert, 1, {
        ...cert,
        hostId: hostIdFor(rawPublicKey(stranger.publicKey)),
        hostPublicKey: rawPublicKey(stranger.publicKey),
      });
      const foreign = signUsageReport(stranger, report(hostIdFor(rawPublicKey(stranger.publicKey))), [
        { certificate: strangerCert, issuer: issuing.certificate },
      ]);
      await assert.rejects(authority.receiveUsageReport(foreign, 'test'), code('USAGE_REPORT_HOST_UNKNOWN'));
      const ahead = signUsageReport(pair, report(cert.hostId, { generatedAt: now + 5 * 3_600_000 }), [
        { certificate: answer.certificate, issuer: answer.issuer },
      ]);
      await assert.rejects(authority.receiveUsageReport(ahead, 'test'), code('USAGE_REPORT_INVALID'));
      assert.deepEqual(await store.rowCounts(), after, 'refusals wrote nothing');
    });

    it('enforces the host and activation limits of a host key, with the counts in the error', async () => {
      const key = (await authority.issueHostKey('server-2026', { maxHosts: 2, maxActivations: 3 }, 'test')).key;
      await authority.activateHost(hostRequest(key));
      const second = hostRequest(key);
      await authority.activateHost(second);
      await assert.rejects(
        authority.activateHost(hostRequest(key)),
        (e: Error & { code?: string }) => e.code === 'KEY_LIMIT_HOSTS' && /2 of its 2 hosts/.test(e.message),
      );
      await authority.activateHost({ ...second, requestId: randomBytes(16).toString('base64url') });
      await assert.rejects(
        authority.activateHost({ ...second, requestId: randomBytes(16).toString('base64url') }),
        code('KEY_LIMIT_ACTIVATIONS'),
      );
      const row = await usage(key);
      assert.deepEqual([row.hostsUsed, row.usedActivations], [2, 3], 'refusals used nothing');
    });

    it('holds the limits under concurrent activations: 6 of 20 hosts, then 10 activations in all', async () => {
      const key = (await authority.issueHostKey('desk-2026', {}, 'test')).key;
      const hosts = await Promise.allSettled(
        Array.from({ length: 20 }, () => authority.activateHost(hostRequest(key))),
      );
      assert.equal(hosts.filter((r) => r.status === 'fulfilled').length, 6);
      assert.ok(
        hosts.every((r) => r.status === 'fulfilled' || (r.reason as { code?: string }).code === 'KEY_LIMIT_HOSTS'),
      );
      const first = (hosts.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ certificate: string }>)
        .value;
      const pub = verifyHostCert(
        first.certificate,
        keys.issuers.get('host-cert')!.certificate,
        [keys.root],
        clock.now(),
      ).cert.hostPublicKey;
      const again = await Promise.allSettled(
        Array.from({ length: 12 }, () => authority.activateHost(hostRequest(key, pub))),
      );
      assert.equal(again.filter((r) => r.status === 'fulfilled').length, 4, '6 activations so far, 4 left of 10');
      assert.ok(
        again.every(
          (r) => r.status === 'fulfilled' || (r.reason as { code?: string }).code === 'KEY_LIMIT_ACTIVATIONS',
        ),
      );
      const row = await usage(key);
      assert.deepEqual([row.hostsUsed, row.usedActivations], [6, 10]);
    });

    const parts = (
      seed: string,
      over: Partial<Record<'board' | 'cpu' | 'osId', string>> & { disks?: string[]; nics?: string[] } = {},
    ) =>
      hashedFingerprint({
        osId: over.osId ?? `os-${seed}`,
        cpu: over.cpu ?? 'cpu',
        board: over.board ?? `board-${seed}`,
        disks: over.disks ?? [`disk-${seed}`],
        nics: over.nics ?? [`nic-${seed}`],
      });
    const makRequest = (makKey: string, machineId: string, p: ReturnType<typeof parts>) => ({
      v: 1 as const,
      makKey,
      machineId,
      parts: p,
      nonce: randomBytes(18).toString('base64url'),
    });
    const makUsage = async (id: string) => (await authority.listMaks()).find((m) => m.id === id)!;

    it('activates MAK machines once each: repeats and repairs within tolerance are free, a new board counts', async () => {
      const mak = await authority.issueMak('desk-enterprise', 3, 'test');
      const a = await authority.activateMak(makRequest(mak.key, 'm-a', parts('a')));
      const grant = verifyMakGrant(a.grant, a.issuer, [keys.root], {
        machineId: 'm-a',
        nonce: (parseJws(a.grant).payload as { nonce: string }).nonce,
        now: clock.now(),
      });
      assert.deepEqual([grant.activationsUsed, grant.activationsLimit, grant.editionCode], [1, 3, 'desk-enterprise']);
      await authority.activateMak(makRequest(mak.key, 'm-a', parts('a')));
      await authority.activateMak(makRequest(mak.key, 'm-a', parts('a', { disks: ['a-new-disk'] })));
      assert.equal((await makUsage(mak.id)).usedActivations, 1, 'a retry and a disk replacement used nothing');
      await authority.activateMak(
        makRequest(mak.key, 'm-a', parts('a', { board: 'new-board', disks: ['a-new-disk'] })),
      );
      assert.equal((await makUsage(mak.id)).usedActivations, 2, 'a change beyond tolerance counts');
      await authority.activateMak(makRequest(mak.key, 'm-b', parts('b')));
      await assert.rejects(
        authority.activateMak(makRequest(mak.key, 'm-c', parts('c'))),
        (e: Error & { code?: string }) => e.code === 'MAK_LIMIT' && /3 of its 3/.test(e.message),
      );
      await authority.activateMak(makRequest(mak.key, 'm-b', parts('b')));
      assert.equal(
        (await makUsage(mak.id)).usedActivations,
        3,
        'an activated machine still gets its answer at the limit',
      );
      await assert.rejects(
        authority.activateMak(
          makRequest((await authority.issueHostKey('desk-2026', {}, 'test')).key, 'm-d', parts('d')),
        ),
        code('KEY_WRONG_CLASS'),
      );
    });

    it('lets exactly 100 of 200 concurrent machines use a MAK of 100, and repeats never count', async () => {
      const mak = await authority.issueMak('desk-pro', 100, 'test');
      const first = await Promise.allSettled(
        Array.from({ length: 200 }, (_, i) => authority.activateMak(makRequest(mak.key, `c-${i}`, parts(`c${i}`)))),
      );
      const admitted = first.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(admitted.length, 100);
      assert.ok(first.every((r) => r.status === 'fulfilled' || (r.reason as { code?: string }).code === 'MAK_LIMIT'));
      const repeats = await Promise.allSettled(
        admitted.map((i) => authority.activateMak(makRequest(mak.key, `c-${i}`, parts(`c${i}`)))),
      );
      assert.ok(repeats.every((r) => r.status === 'fulfilled'));
      assert.equal((await makUsage(mak.id)).usedActivations, 100);
    });

    it('raises a limit at once when an increase request is approved, records every step, and decides once', async () => {
      const mak = await authority.issueMak('desk-pro', 1, 'test');
      await authority.activateMak(makRequest(mak.key, 'inc-a', parts('inc-a')));
      await assert.rejects(authority.activateMak(makRequest(mak.key, 'inc-b', parts('inc-b'))), code('MAK_LIMIT'));
      const filed = await authority.requestIncrease({
        v: 1,
        key: mak.key,
        what: 'activations',
        amount: 5,
        reason: 'new branch office',
      });
      assert.equal((await authority.increaseStatus(filed.id, mak.key)).state, 'pending');
      await assert.rejects(
        authority.increaseStatus(filed.id, (await authority.issueMak('desk-pro', 1, 'test')).key),
        code('REQUEST_UNKNOWN'),
        'another key sees nothing',
      );
      const approved = await authority.decideIncrease(filed.id, true, 3, 'three for now', 'test');
      assert.deepEqual([approved.state, approved.granted], ['approved', 3]);
      assert.deepEqual(
        approved.steps.map((st) => st.step),
        ['requested', 'approved'],
      );
      await authority.activateMak(makRequest(mak.key, 'inc-b', parts('inc-b')));
      assert.equal((await makUsage(mak.id)).maxActivations, 4);
      await assert.rejects(
        authority.decideIncrease(filed.id, false, undefined, undefined, 'test'),
        code('REQUEST_DECIDED'),
      );
      await assert.rejects(
        authority.requestIncrease({ v: 1, key: mak.key, what: 'hosts', amount: 1, reason: 'x' }),
        code('BAD_REQUEST'),
      );

      const hostKey = await authority.issueHostKey('desk-2026', { maxHosts: 1 }, 'test');
      const first = await authority.activateHost(hostRequest(hostKey.key));
      await assert.rejects(authority.activateHost(hostRequest(hostKey.key)), code('KEY_LIMIT_HOSTS'));
      const more = await authority.requestIncrease({
        v: 1,
        key: hostKey.key,
        what: 'hosts',
        amount: 1,
        reason: 'second site',
      });
      assert.equal(
        (await authority.decideIncrease(more.id, false, undefined, 'use the first host', 'test')).state,
        'rejected',
      );
      await assert.rejects(authority.activateHost(hostRequest(hostKey.key)), code('KEY_LIMIT_HOSTS'));
      // the publisher frees the slot of a decommissioned host
      const hostId = verifyHostCert(first.certificate, first.issuer, [keys.root], clock.now()).cert.hostId;
      await authority.releaseHost(hostKey.id, hostId, 'test');
      await authority.activateHost(hostRequest(hostKey.key));
      assert.equal((await usage(hostKey.key)).hostsUsed, 1);
      await assert.rejects(authority.releaseHost(hostKey.id, 'H-nobody', 'test'), code('REQUEST_UNKNOWN'));
      assert.deepEqual((await authority.increaseRequests('pending')).length, 0);
    });

    it("lists the hosts holding a key's slots, most recent first, and forgets a released one", async () => {
      const hostKey = await authority.issueHostKey('server-2026', {}, 'test');
      const started = clock.now();
      for (const hostName of ['kms-a', 'kms-b']) {
        await authority.activateHost({ ...hostRequest(hostKey.key), hostName });
        clock.advance(1000);
      }
      const listed = await authority.keyHosts(hostKey.id);
      assert.deepEqual(
        listed.map((h) => [h.hostName, h.activations, h.firstActivatedAt - started]),
        [
          ['kms-b', 1, 1000],
          ['kms-a', 1, 0],
        ],
      );
      await authority.releaseHost(hostKey.id, listed[1]!.hostId, 'test');
      assert.deepEqual(
        (await authority.keyHosts(hostKey.id)).map((h) => h.hostName),
        ['kms-b'],
      );
      assert.deepEqual(await authority.keyHosts((await authority.issueHostKey('server-2026', {}, 'test')).id), []);
      await assert.rejects(authority.keyHosts('HK-none'), code('REQUEST_UNKNOWN'));
    });

    it('confirms installation IDs once: the same IID twice uses one activation, on hosts and MAKs alike', async () => {
      const mak = await authority.issueMak('desk-pro', 2, 'test');
      const decoded = decodeKey(mak.key);
      const parts = hashedFingerprint({ osId: 'os-off', board: 'b', cpu: 'c', disks: ['d1', 'd2'], nics: ['n'] });
      const iid = makeInstallationId(decoded, { type: 'mak', machineId: 'offline-1', parts });
      const first = await authority.confirmOffline(iid.text, 'token:T1');
      const second = await authority.confirmOffline(iid.text.toLowerCase().replace(/-/g, ' '));
      assert.deepEqual([first.outcome, first.used, second.outcome, second.used], ['activated', 1, 'repeat', 1]);
      const issuer = offlineIssuer(keys.issuers.get('offline')!.certificate, [keys.root]);
      assert.equal(verifyOfflineConfirmation(second.confirmationId, iid, [issuer.jws], [keys.root]).cid.type, 'mak');
      // the same machine activated online first: its offline IID is judged by the same rule (full and compact parts)
      const online = await authority.activateMak({
        v: 1,
        makKey: mak.key,
        machineId: 'iid-' + iid.machineRef!.toString('base64url'),
        parts,
        nonce: randomBytes(16).toString('base64url'),
      });
      assert.equal(verifyMakGrantUsed(online.grant), 1, 'online repeat of an offline activation is free');

      const hostKey = await authority.issueHostKey('server-2026', {}, 'test');
      const hostIid = makeInstallationId(decodeKey(hostKey.key), {
        type: 'host',
        hostPublicKey: rawPublicKey(generateKeyPair('h').publicKey),
      });
      const [a, b] = await Promise.all([
        authority.confirmOffline(hostIid.text, 'token:T1'),
        authority.confirmOffline(hostIid.text, 'token:T1'),
      ]);
      assert.equal(a.used, 1);
      assert.equal(b.used, 1, 'two concurrent confirmations of one IID use one activation');
      const forged = Buffer.from(decodeCode(iid.text, 'installation ID', [46]));
      forged[forged.length - 1]! ^= 1; // another machine's parts, the MAC of this one
      await assert.rejects(authority.confirmOffline(encodeCode(forged)), code('INSTALLATION_ID_INVALID'));
    });

    it('counts an old installation ID replayed after a hardware change as a retry, and two concurrent reactivations once', async () => {
      const mak = await authority.issueMak('desk-pro', 10, 'test');
      const decoded = decodeKey(mak.key);
      const p1 = hashedFingerprint({ osId: 'os-replay', board: 'b1', cpu: 'c1', disks: ['d'], nics: ['n'] });
      const p2 = hashedFingerprint({ osId: 'os-replay', board: 'b2', cpu: 'c2', disks: ['d'], nics: ['n'] });
      const iid1 = makeInstallationId(decoded, { type: 'mak', machineId: 'replayed', parts: p1 }).text;
      const iid2 = makeInstallationId(decoded, { type: 'mak', machineId: 'replayed', parts: p2 }).text;
      assert.equal((await authority.confirmOffline(iid1)).used, 1);
      assert.deepEqual([(await authority.confirmOffline(iid2)).outcome, await usedOf(mak.id)], ['reactivated', 2]);
      for (const iid of [iid1, iid2, iid1, iid2]) assert.equal((await authority.confirmOffline(iid)).outcome, 'repeat');
      assert.equal(await usedOf(mak.id), 2, 'replaying old IIDs drains nothing');

      // online: twenty concurrent requests from one machine on new hardware use one activation
      const p3 = hashedFingerprint({ osId: 'os-online', board: 'b1', cpu: 'c1', disks: ['d'], nics: ['n'] });
      const p4 = hashedFingerprint({ osId: 'os-online', board: 'b9', cpu: 'c9', disks: ['d'], nics: ['n'] });
      const req = (parts: typeof p3) => ({
        v: 1 as const,
        makKey: mak.key,
        machineId: 'online-1',
        parts,
        nonce: randomBytes(16).toString('base64url'),
      });
      await authority.activateMak(req(p3));
      await Promise.all(Array.from({ length: 20 }, () => authority.activateMak(req(p4))));
      assert.equal(await usedOf(mak.id), 4, 'one for the first activation, one for the changed board');
    });

    it('keeps tokens hashed and writes audit entries in the same transaction as the write', async () => {
      const before = await store.rowCounts();
      const t = await authority.createToken('ops', ['read', 'approve', 'read'], 'cli:alice');
      assert.deepEqual(t.scopes, ['read', 'approve']);
      assert.deepEqual(await authority.authenticate(`Bearer ${t.token}`), { id: t.id, scopes: ['read', 'approve'] });
      const row = (await authority.listTokens()).find((x) => x.id === t.id)!;
      assert.ok(!t.token.includes(row.tokenHash) && row.tokenHash.length === 43);
      await assert.rejects(
        authority.authenticate(`Bearer ${t.token.slice(0, -1)}${t.token.endsWith('A') ? 'B' : 'A'}`),
        code('TOKEN_INVALID'),
      );
      await assert.rejects(authority.createToken('x', ['superuser'], 'cli:alice'), code('BAD_REQUEST'));
      await authority.revokeToken(t.id, 'cli:alice');
      await assert.rejects(authority.authenticate(`Bearer ${t.token}`), code('TOKEN_INVALID'));
      await assert.rejects(authority.revokeToken(t.id, 'cli:alice'), code('REQUEST_UNKNOWN'));
      // a write that fails leaves no audit entry: a duplicate key hash rolls back both
      const audit = { actor: 'cli:alice', action: 'host-key.issue', target: 'HK-dup', detail: '', at: clock.now() };
      const dup = {
        id: 'HK-dup',
        keyHash: (await store.listHostKeys())[0]!.keyHash,
        partial: 'XXXXX',
        groupCode: 'desk-2026',
        keyClass: 'host' as const,
        maxHosts: 1,
        maxActivations: 1,
        createdAt: clock.now(),
      };
      await assert.rejects(store.insertHostKey(dup, audit));
      const after = await store.rowCounts();
      assert.equal(after.auditLog! - before.auditLog!, 2, 'token.create and token.revoke only');
      const log = await authority.auditLog(2);
      assert.deepEqual(
        log.map((a) => a.action),
        ['token.revoke', 'token.create'],
      );
      assert.ok(log[0]!.seq > log[1]!.seq);
    });

    it('answers "unknown key" for a well-formed key it never issued, and a typo for a typo', async () => {
      const issued = decodeKey((await authority.issueHostKey('desk-2026', {}, 'test')).key);
      const forged = encodeKeyFields({ ...issued, serial: issued.serial ^ 1n });
      await assert.rejects(authority.activateHost(hostRequest(forged)), code('KEY_UNKNOWN'));
      const other = new Authority({ ...keys, mintSecret: randomBytes(32) }, store, clock);
      await assert.rejects(other.activateHost(hostRequest(issued.canonical)), code('KEY_UNKNOWN'));
      const typo = issued.canonical.slice(0, -1) + (issued.canonical.endsWith('2') ? '3' : '2');
      await assert.rejects(authority.activateHost(hostRequest(typo)), code('KEY_TYPO'));
      await assert.rejects(authority.issueHostKey('no-such-group', {}, 'test'), code('GROUP_UNKNOWN'));
      await assert.rejects(authority.issueHostKey('desk-2026', { maxHosts: 0 }, 'test'), code('VALUE_OUT_OF_RANGE'));
    });

    it('refuses catalogs that break the product group rules, writing nothing', async () => {
      const before = await store.rowCounts();
      const clientGroupWithServer = sample();
      clientGroupWithServer.groups[0].editions.push('server-standard');
      await assert.rejects(
        authority.importCatalog(clientGroupWithServer, 'test'),
        (e: Error & { code?: string }) =>
          e.code === 'CATALOG_INVALID' && /client group desk-2026 cannot activate server edition/.test(e.message),
      );
      const dup = sample();
      dup.products[1].editions[0].number = 101;
      assert.throws(() => buildCatalog(dup, keys.mintSecret, 1, 0), code('CATALOG_INVALID'));
      await assert.rejects(authority.importCatalog({ products: [], groups: [] }, 'test'), code('CATALOG_INVALID'));
      await assert.rejects(authority.importCatalog({ ...sample(), extra: 1 }, 'test'), code('CATALOG_INVALID'));
      assert.deepEqual(await store.rowCounts(), before);
    });

    it('keeps serving a verifiable catalog after its issuing key is rotated, without a new import', async () => {
      const before = await authority.catalog();
      clock.advance(90 * 86_400_000); // long after the import: the new key did not exist then
      certifyIssuer(join(dir, 'a'), loadRootPair(join(dir, 'a')), 'catalog', clock.now());
      const rotated = new Authority(loadKeys(join(dir, 'a')), store, clock);
      const answer = await rotated.activateHost(hostRequest((await rotated.issueHostKey('desk-2026', {}, 'test')).key));
      const catalog = verifyCatalog(answer.catalog, answer.catalogIssuer, [keys.root]);
      assert.equal(catalog.serial, before.catalog.serial);
      assert.notEqual(answer.catalogIssuer, before.issuer);
    });

    it('mints the same setup keys when the catalog is imported again', async () => {
      const before = (await authority.catalog()).catalog;
      const again = await authority.importCatalog(sample(), 'test');
      assert.equal(again.serial, before.serial + 1);
      assert.deepEqual(
        again.editions.map((e) => e.setupKey),
        before.editions.map((e) => e.setupKey),
      );
    });
  });
}
