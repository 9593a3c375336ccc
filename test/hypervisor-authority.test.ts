import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, sql } from 'kysely';
import pg from 'pg';
import {
  ManualClock,
  decodeKey,
  generateKeyPair,
  hashedFingerprint,
  hypervisorCertKind,
  hypervisorIdFor,
  makeInstallationId,
  mintKey,
  offlineHostCertificate,
  rawPublicKey,
  verifyHostCert,
  verifyHypervisorCert,
} from '@volact/protocol';
import {
  Authority,
  KyselyAuthorityStore,
  initKeys,
  keyHash,
  loadKeys,
  migrationProvider,
  openAuthorityDb,
  sampleCatalogPath,
} from '@volact/authority';
import { startPostgres, type Postgres } from '@volact/authority/testing';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;
const sample = () => JSON.parse(readFileSync(sampleCatalogPath(), 'utf8'));
const guestCodes = ['server-standard', 'server-datacenter', 'server-essentials'];
const newRequestId = () => randomBytes(16).toString('base64url');

/** Automatic VM activation on the authority: datacenter keys, VM keys, hypervisor certificates; every store. */
for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`hypervisor agents on the authority (${backend})`, { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), `volact-hv-${backend}-`));
    const clock = new ManualClock(Date.UTC(2026, 11, 1));
    let pg_: Postgres | undefined;
    let store: KyselyAuthorityStore;
    let authority: Authority;
    let keys: ReturnType<typeof loadKeys>;

    before(async () => {
      initKeys(join(dir, 'a'), clock.now());
      keys = loadKeys(join(dir, 'a'));
      if (backend === 'postgres') pg_ = await startPostgres();
      store = new KyselyAuthorityStore(await openAuthorityDb(pg_ ? pg_.url : join(dir, 'a', 'authority.db')));
      authority = new Authority(keys, store, clock);
      await authority.importCatalog(sample(), 'test');
    });

    after(async () => {
      await store?.close();
      pg_?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    const agentRequest = (key: string, pub = rawPublicKey(generateKeyPair('agent').publicKey)) =>
      ({ v: 1, hostKey: key, hostPublicKey: pub, hostName: 'hv-01', requestId: newRequestId() }) as const;
    const usage = async (id: string) => (await authority.listHostKeys()).find((k) => k.id === id)!;

    it('mints one VM key per guest edition, the same on every import, and none for other editions', async () => {
      const before = (await authority.catalog()).catalog;
      const withVm = before.editions.filter((e) => e.vmKey !== undefined);
      assert.deepEqual(
        withVm.map((e) => e.code),
        guestCodes,
      );
      for (const e of withVm) {
        const k = decodeKey(e.vmKey!);
        assert.deepEqual([k.keyClass, k.ref], ['vm', e.number], e.code);
        assert.notEqual(e.vmKey, e.setupKey);
      }
      assert.equal(new Set(withVm.map((e) => e.vmKey)).size, withVm.length, 'one key per edition');
      const again = await authority.importCatalog(sample(), 'test');
      assert.equal(again.serial, before.serial + 1);
      assert.deepEqual(
        again.editions.map((e) => [e.code, e.vmKey]),
        before.editions.map((e) => [e.code, e.vmKey]),
      );
      // another authority (another mint secret) mints other VM keys for the same catalog
      const other = new Authority({ ...keys, mintSecret: randomBytes(32) }, store, clock);
      const foreign = await other.importCatalog(sample(), 'test');
      assert.notEqual(foreign.editions.find((e) => e.vmKey)!.vmKey, withVm[0]!.vmKey);
      await authority.importCatalog(sample(), 'test');
      const noGuest = sample();
      noGuest.products[1].editions[0].guest = 'yes';
      await assert.rejects(authority.importCatalog(noGuest, 'test'), code('CATALOG_INVALID'));
    });

    it('issues datacenter keys with host-key limits for groups with guest editions only', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', {}, 'cli:alice');
      assert.match(dk.id, /^DK-[0-9a-f]{8}$/);
      assert.deepEqual(
        [dk.keyClass, dk.group, dk.maxHosts, dk.maxActivations, dk.guestEditions],
        ['datacenter', 'server-2026', 6, 10, guestCodes],
      );
      assert.deepEqual([decodeKey(dk.key).keyClass, decodeKey(dk.key).ref], ['datacenter', 2]);
      const small = await authority.issueDatacenterKey('server-2026', { maxHosts: 2, maxActivations: 3 }, 'test');
      assert.deepEqual([small.maxHosts, small.maxActivations], [2, 3]);
      const row = await usage(dk.id);
      assert.deepEqual(
        [row.keyClass, row.hostsUsed, row.maxHosts, row.usedActivations, row.maxActivations],
        ['datacenter', 0, 6, 0, 10],
      );
      assert.equal(row.keyHash, keyHash(dk.key));
      assert.equal((await authority.issueHostKey('server-2026', {}, 'test')).keyClass, 'host');
      const before = await store.rowCounts();
      await assert.rejects(authority.issueDatacenterKey('desk-2026', {}, 'test'), code('GROUP_NO_GUEST_EDITIONS'));
      await assert.rejects(authority.issueDatacenterKey('no-such-group', {}, 'test'), code('GROUP_UNKNOWN'));
      await assert.rejects(
        authority.issueDatacenterKey('server-2026', { maxHosts: 0 }, 'test'),
        code('VALUE_OUT_OF_RANGE'),
      );
      assert.deepEqual(await store.rowCounts(), before, 'refusals wrote nothing');
      const audit = (await authority.auditLog(10)).find((a) => a.target === dk.id)!;
      assert.deepEqual([audit.action, audit.actor], ['datacenter-key.issue', 'cli:alice']);
    });

    it('certifies a hypervisor agent for the guest editions of its group, under its own ID', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', {}, 'test');
      const req = agentRequest(dk.key);
      const answer = await authority.activateHypervisor(req);
      const { cert } = verifyHypervisorCert(answer.certificate, answer.issuer, [keys.root], clock.now());
      assert.deepEqual(
        cert.editions.map((e) => e.code),
        guestCodes,
        'no client edition of the server group',
      );
      assert.deepEqual(
        [cert.hostId, cert.hostKeyId, cert.hostPublicKey, cert.group, cert.activation, cert.notAfter],
        [hypervisorIdFor(req.hostPublicKey), dk.id, req.hostPublicKey, 'server-2026', 1, null],
      );
      assert.equal(answer.issuer, keys.issuers.get('hypervisor')!.certificate);
      assert.throws(
        () => verifyHostCert(answer.certificate, answer.issuer, [keys.root], clock.now()),
        'a hypervisor certificate is no host certificate',
      );
      assert.deepEqual(
        [answer.hostsUsed, answer.hostsLimit, answer.activationsUsed, answer.activationsLimit],
        [1, 6, 1, 10],
      );
      const retry = await authority.activateHypervisor(req);
      assert.equal(retry.certificate, answer.certificate, 'a retry after a lost answer gets the same certificate');
      const row = await usage(dk.id);
      assert.deepEqual([row.hostsUsed, row.usedActivations], [1, 1]);
    });

    it('refuses a key of the wrong class at every endpoint, using nothing', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', {}, 'test');
      const hk = await authority.issueHostKey('server-2026', {}, 'test');
      const before = await store.rowCounts();
      await assert.rejects(authority.activateHost(agentRequest(dk.key)), code('KEY_WRONG_CLASS'));
      await assert.rejects(authority.activateHypervisor(agentRequest(hk.key)), code('KEY_WRONG_CLASS'));
      await assert.rejects(
        authority.activateDirectory({
          v: 1,
          hostKey: dk.key,
          directoryId: '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a',
          directoryKind: 'openldap',
          suffix: 'dc=example,dc=com',
          name: 'office',
          requestId: newRequestId(),
        }),
        code('KEY_WRONG_CLASS'),
      );
      const parts = hashedFingerprint({ osId: 'o', cpu: 'c', board: 'b', disks: ['d'], nics: ['n'] });
      await assert.rejects(
        authority.activateMak({ v: 1, makKey: dk.key, machineId: 'm', parts, nonce: newRequestId() }),
        code('KEY_WRONG_CLASS'),
      );
      const vmKey = (await authority.catalog()).catalog.editions.find((e) => e.vmKey)!.vmKey!;
      await assert.rejects(authority.activateHypervisor(agentRequest(vmKey)), code('KEY_WRONG_CLASS'));
      assert.deepEqual(await store.rowCounts(), before);
      for (const id of [dk.id, hk.id]) assert.equal((await usage(id)).usedActivations, 0);
      // the stored class must agree too: a key recorded under the other class serves neither role
      for (const [minted, stored] of [
        ['datacenter', 'host'],
        ['host', 'datacenter'],
      ] as const) {
        const key = mintKey(keys.mintSecret, minted, 2, BigInt('0x' + randomBytes(7).toString('hex')));
        const id = `X-${minted}`;
        await store.insertHostKey(
          {
            id,
            keyHash: keyHash(key),
            partial: key.slice(-5),
            groupCode: 'server-2026',
            keyClass: stored,
            maxHosts: 6,
            maxActivations: 10,
            createdAt: clock.now(),
          },
          { actor: 'test', action: 'host-key.issue', target: id, detail: '', at: clock.now() },
        );
        for (const activate of [authority.activateHost, authority.activateHypervisor])
          await assert.rejects(
            activate.call(authority, agentRequest(key)),
            code('KEY_WRONG_CLASS'),
            `${minted} as ${stored}`,
          );
        assert.equal((await usage(id)).usedActivations, 0);
      }
    });

    it('holds the host and activation limits of a datacenter key, concurrently too', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', { maxHosts: 2, maxActivations: 3 }, 'test');
      await authority.activateHypervisor(agentRequest(dk.key));
      const second = agentRequest(dk.key);
      await authority.activateHypervisor(second);
      await assert.rejects(
        authority.activateHypervisor(agentRequest(dk.key)),
        (e: Error & { code?: string }) => e.code === 'KEY_LIMIT_HOSTS' && /2 of its 2 hosts/.test(e.message),
      );
      await authority.activateHypervisor({ ...second, requestId: newRequestId() });
      await assert.rejects(
        authority.activateHypervisor({ ...second, requestId: newRequestId() }),
        code('KEY_LIMIT_ACTIVATIONS'),
      );
      assert.deepEqual([(await usage(dk.id)).hostsUsed, (await usage(dk.id)).usedActivations], [2, 3]);
      const wide = await authority.issueDatacenterKey('server-2026', {}, 'test');
      const results = await Promise.allSettled(
        Array.from({ length: 12 }, () => authority.activateHypervisor(agentRequest(wide.key))),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 6);
      assert.ok(
        results.every((r) => r.status === 'fulfilled' || (r.reason as { code?: string }).code === 'KEY_LIMIT_HOSTS'),
      );
    });

    it('confirms a hypervisor installation ID once, and the agent verifies its offline certificate', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', {}, 'test');
      const agent = rawPublicKey(generateKeyPair('agent').publicKey);
      const iid = makeInstallationId(decodeKey(dk.key), { type: 'hypervisor', hostPublicKey: agent });
      const [a, b] = await Promise.all([
        authority.confirmOffline(iid.text, 'token:T1'),
        authority.confirmOffline(iid.text, 'token:T1'),
      ]);
      assert.deepEqual(
        [a.type, a.keyId, a.outcome, a.used, b.used],
        ['hypervisor', dk.id, 'hypervisor activated', 1, 1],
      );
      const bundle = await authority.offlineBundle();
      const certificate = offlineHostCertificate(
        {
          iid: iid.publicForm.toString('base64url'),
          cid: a.confirmationId,
          catalog: bundle.catalog,
          catalogIssuer: bundle.catalogIssuer,
        },
        hypervisorCertKind,
      );
      const { cert } = verifyHypervisorCert(certificate, bundle.offlineIssuer, [keys.root], clock.now());
      assert.deepEqual(
        [cert.hostId, cert.hostPublicKey, cert.editions.map((e) => e.code)],
        [hypervisorIdFor(agent), agent, guestCodes],
      );
      assert.throws(
        () => verifyHostCert(certificate, bundle.offlineIssuer, [keys.root], clock.now()),
        'an agent certificate does not pass as a host certificate',
      );
      const row = await usage(dk.id);
      assert.deepEqual([row.hostsUsed, row.usedActivations], [1, 1]);
      // a host key in a hypervisor installation ID, or the reverse, is not a valid installation ID
      const hk = await authority.issueHostKey('server-2026', {}, 'test');
      assert.throws(
        () => makeInstallationId(decodeKey(hk.key), { type: 'hypervisor', hostPublicKey: agent }),
        code('INSTALLATION_ID_INVALID'),
      );
      const audit = (await authority.auditLog(5)).find((x) => x.target === `${dk.id}/${hypervisorIdFor(agent)}`)!;
      assert.equal(audit.action, 'hypervisor.activate');
    });

    it('raises a datacenter key limit on an approved increase request and frees a released agent slot', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', { maxHosts: 1 }, 'test');
      const first = agentRequest(dk.key);
      await authority.activateHypervisor(first);
      await assert.rejects(authority.activateHypervisor(agentRequest(dk.key)), code('KEY_LIMIT_HOSTS'));
      const filed = await authority.requestIncrease({
        v: 1,
        key: dk.key,
        what: 'hosts',
        amount: 2,
        reason: 'second cluster',
      });
      const status = await authority.increaseStatus(filed.id, dk.key);
      assert.deepEqual([status.state, status.keyKind, status.keyId], ['pending', 'host-key', dk.id]);
      await assert.rejects(
        authority.increaseStatus(filed.id, (await authority.issueDatacenterKey('server-2026', {}, 'test')).key),
        code('REQUEST_UNKNOWN'),
      );
      await authority.decideIncrease(filed.id, true, 1, undefined, 'test');
      await authority.activateHypervisor(agentRequest(dk.key));
      assert.deepEqual([(await usage(dk.id)).maxHosts, (await usage(dk.id)).hostsUsed], [2, 2]);
      await authority.releaseHost(dk.id, hypervisorIdFor(first.hostPublicKey), 'test');
      assert.equal((await usage(dk.id)).hostsUsed, 1);
      await authority.activateHypervisor(agentRequest(dk.key));
    });

    it('refuses an agent whose group has no guest edition left after a catalog import', async () => {
      const dk = await authority.issueDatacenterKey('server-2026', {}, 'test');
      const none = sample();
      for (const e of none.products[1].editions) delete e.guest;
      await authority.importCatalog(none, 'test');
      try {
        await assert.rejects(authority.activateHypervisor(agentRequest(dk.key)), code('GROUP_NO_GUEST_EDITIONS'));
        assert.equal((await usage(dk.id)).usedActivations, 0);
      } finally {
        await authority.importCatalog(sample(), 'test');
      }
    });

    it('migrates a database made before datacenter keys: its host keys stay host keys', async () => {
      let target: string;
      let db: Kysely<any>;
      if (backend === 'sqlite') {
        target = join(dir, 'old.db');
        db = new Kysely({ dialect: new SqliteDialect({ database: new Database(target) }) });
      } else {
        const admin = new pg.Client({ connectionString: pg_!.url });
        await admin.connect();
        await admin.query('create database volact_pre006');
        await admin.end();
        target = pg_!.url.replace(/\/[^/]*$/, '/volact_pre006');
        db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: target }) }) });
      }
      const { error } = await new Migrator({ db, provider: migrationProvider }).migrateTo('005-admin-api');
      assert.equal(error, undefined);
      await sql`insert into host_keys (id, key_hash, partial, group_code, max_hosts, max_activations, created_at)
        values ('HK-old', 'old-hash', 'OLD00', 'server-2026', 6, 10, 1)`.execute(db);
      await db.destroy();
      const upgraded = new KyselyAuthorityStore(await openAuthorityDb(target));
      try {
        const old = await upgraded.findHostKeyByHash('old-hash');
        assert.deepEqual([old?.id, old?.keyClass], ['HK-old', 'host']);
        const audit = { actor: 'test', action: 'x', target: 'x', detail: '', at: 1 };
        const row = { ...old!, id: 'X-1', keyHash: 'h-1' };
        await upgraded.insertHostKey({ ...row, keyClass: 'datacenter' }, audit);
        assert.equal((await upgraded.findHostKeyByHash('h-1'))?.keyClass, 'datacenter');
        await assert.rejects(
          upgraded.insertHostKey({ ...row, id: 'X-2', keyHash: 'h-2', keyClass: 'bogus' as 'host' }, audit),
          'the database refuses a class it does not know',
        );
      } finally {
        await upgraded.close();
      }
    });
  });
}
