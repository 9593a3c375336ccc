import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { machineIdHash, machineIdHasher, migrations, openHostDb } from './host-store.js';
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
    for (let i = 0; i < 500; i++) insert.run(`m-${i}`, `fp-${i}`, 1000 + i, 5000 - i, i + 1, 'licensed', 'renewed', 1 + (i % 3 === 0 ? 1 : 0), i % 2 ? `pc-${i}` : null);
    old.pragma('user_version = 4');
    old.close();

    const db = openHostDb(path);
    assert.equal(db.pragma('user_version', { simple: true }), 5);
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM machines').get() as { n: number }).n, 500);
    const [id] = MachineIndex.load(db).rowsOf(machineIdHasher(db)('m-42'));
    const row = db.prepare('SELECT * FROM machines WHERE id = ?').get(id) as Record<string, unknown>;
    assert.equal(row.machine_id, 'm-42');
    assert.deepEqual(
      [row.fingerprint_hash, row.first_seen, row.last_seen, row.requests, row.fingerprints, row.machine_name],
      ['fp-42', 1042, 4958, 43, 2, null],
    );
    const order = db.prepare('SELECT last_seen FROM machines ORDER BY id').all() as { last_seen: number }[];
    assert.deepEqual(order.map((r) => r.last_seen), [...order.map((r) => r.last_seen)].sort((a, b) => a - b), 'copied in the order last seen');
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
