import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { HostStore, machineIdHash, machineIdHasher, migrations, openHostDb } from './host-store.js';
import { MachineIndex } from './machine-index.js';

describe('host store migrations', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-host-store-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('moves the machines of a version 4 database to the hashed index, keeping every row and its columns', () => {
    const path = join(dir, 'v4.db');
    const old = new Database(path);
    // a database of schema version 4, as that version made it
    for (const m of migrations.slice(0, 4)) old.exec(m);
    const insert = old.prepare('INSERT INTO machines VALUES (?, ?, ?, ?, ?, 101, 0, ?, ?, ?, ?)');
    for (let i = 0; i < 500; i++)
      insert.run(
        `m-${i}`,
        `fp-${i}`,
        1000 + i,
        5000 - i,
        i + 1,
        'licensed',
        'renewed',
        1 + (i % 3 === 0 ? 1 : 0),
        i % 2 ? `pc-${i}` : null,
      );
    old.pragma('user_version = 4');
    old.close();

    const db = openHostDb(path);
    assert.equal(db.pragma('user_version', { simple: true }), migrations.length);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM machines').get() as { n: number }).n, 500);
    const [id] = MachineIndex.load(db).rowsOf(machineIdHasher(db)('m-42'));
    const row = db.prepare('SELECT * FROM machines WHERE id = ?').get(id) as Record<string, unknown>;
    assert.equal(row.machine_id, 'm-42');
    assert.deepEqual(
      [row.fingerprint_hash, row.first_seen, row.last_seen, row.requests, row.fingerprints, row.machine_name],
      ['fp-42', 1042, 4958, 43, 2, null],
    );
    const order = db.prepare('SELECT last_seen FROM machines ORDER BY id').all() as { last_seen: number }[];
    assert.deepEqual(
      order.map((r) => r.last_seen),
      [...order.map((r) => r.last_seen)].sort((a, b) => a - b),
      'copied in the order last seen',
    );
    db.close();
  });

  it("hashes a machine ID to a 48-bit safe integer, the same every time, keyed with the host's own secret", () => {
    const key = Buffer.alloc(16, 1);
    const id = '5c3b8f7e-2a0d-4e1b-9c6f-0d1e2f3a4b5c';
    const h = machineIdHash(key, id);
    assert.ok(Number.isSafeInteger(h) && h >= 0 && h < 2 ** 48);
    assert.equal(machineIdHash(key, id), h);
    assert.notEqual(machineIdHash(key, '5c3b8f7e-2a0d-4e1b-9c6f-0d1e2f3a4b5d'), h);
    assert.notEqual(machineIdHash(Buffer.alloc(16, 2), id), h, 'another host hashes the same ID elsewhere');
    const a = openHostDb(join(dir, 'a.db'));
    const b = openHostDb(join(dir, 'b.db'));
    assert.notEqual(machineIdHasher(a)(id), machineIdHasher(b)(id), 'each database has a key of its own');
    a.close();
    b.close();
  });
});

describe('host store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-host-store-'));
  const db = openHostDb(join(dir, 'host.db'));
  const store = new HostStore(db);
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const key = (id: string, groupNumber: number) => ({
    id,
    productKey: `PK-${id}`,
    partial: id.slice(-5),
    groupNumber,
    installedAt: 1,
    requestId: `r-${id}`,
  });

  it("replaces a product group's key with the new one and leaves other groups' keys", () => {
    store.installKey(key('K1-AAAAA', 1));
    store.installKey(key('K2-BBBBB', 2));
    store.installKey(key('K1-CCCCC', 1));
    assert.deepEqual(
      store.keys().map((k) => k.id),
      ['K2-BBBBB', 'K1-CCCCC'],
    );
    assert.equal(store.removeKey('ccccc'), 1, 'by its last five characters, in any case');
    assert.deepEqual(
      store.keys().map((k) => k.id),
      ['K2-BBBBB'],
    );
  });

  it('marks a request answered with its certificate and keeps the stored catalog when given none', () => {
    store.newRequestId('K2-BBBBB', 'r-again');
    assert.equal(store.keys()[0]!.requestAnswered, false);
    store.saveCertificate('K2-BBBBB', { jws: 'cert-1', issuer: 'issuer-1' }, 7, {
      jws: 'catalog-1',
      issuer: 'catalog-issuer',
    });
    store.saveCertificate('K2-BBBBB', { jws: 'cert-2', issuer: 'issuer-2' }, 8, undefined);
    const [k] = store.keys();
    assert.deepEqual(
      [k!.requestId, k!.requestAnswered, k!.certificate, k!.issuer, k!.activatedAt],
      ['r-again', true, 'cert-2', 'issuer-2', 8],
    );
    assert.deepEqual(store.catalog(), { jws: 'catalog-1', issuer: 'catalog-issuer' });
    assert.equal(store.hasActivatedKeys(), true);
  });

  it('forgets a DNS zone once nothing is left in it, published or unconfirmed', () => {
    const srv = {
      type: 'SRV' as const,
      rr: {
        name: '_volact._tcp.example.test',
        priority: 0,
        weight: 0,
        port: 1688,
        target: 'kms1.example.test',
        ttl: 3600,
      },
    };
    store.putDnsZone({
      domain: 'example.test',
      server: '127.0.0.1:53',
      published: [],
      publishedAt: null,
      unconfirmed: [srv],
      sentAt: 5,
    });
    assert.deepEqual(store.dnsZone('example.test'), {
      domain: 'example.test',
      server: '127.0.0.1:53',
      published: [],
      publishedAt: null,
      unconfirmed: [srv],
      sentAt: 5,
    });
    store.putDnsZone({
      domain: 'example.test',
      server: '127.0.0.1:53',
      published: [],
      publishedAt: 9,
      unconfirmed: [],
      sentAt: 9,
    });
    assert.deepEqual(store.dnsZones(), []);
  });
});
