import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openHostDb } from './host-store.js';
import { MachineIndex } from './machine-index.js';

describe('MachineIndex', () => {
  it('finds every row it was given, across growth, and nothing it was not', () => {
    const index = new MachineIndex(4);
    const truth = new Map<number, number>();
    let seed = 11;
    const rand48 = () => ((seed = (seed * 48271) % 2147483647), (seed % 65536) * 2 ** 32 + ((seed * 7919) >>> 0));
    for (let row = 1; row <= 50_000; row++) {
      const hash = rand48();
      if (truth.has(hash)) continue;
      truth.set(hash, row);
      index.add(hash, row);
    }
    for (const [hash, row] of truth) assert.deepEqual(index.rowsOf(hash), [row]);
    assert.equal(index.size, truth.size);
    assert.deepEqual(index.rowsOf(2 ** 47 + 12345), []);
  });

  it('keeps machines whose IDs share a hash apart, and takes any of them back', () => {
    const index = new MachineIndex();
    const h = 2 ** 40 + 5;
    index.add(h, 10);
    index.add(h, 11);
    index.add(h, 12);
    assert.deepEqual([...index.rowsOf(h)].sort(), [10, 11, 12]);
    index.remove(h, 10);
    assert.deepEqual([...index.rowsOf(h)].sort(), [11, 12]);
    index.remove(h, 12);
    assert.deepEqual(index.rowsOf(h), [11]);
    index.remove(h, 11);
    assert.deepEqual(index.rowsOf(h), []);
    assert.equal(index.size, 0);
  });

  it('removing one entry of a probe chain leaves the rest of the chain reachable', () => {
    const index = new MachineIndex(8); // 16 slots: these hashes all start at slot 3
    const hashes = [3, 19, 35, 51, 67].map((low) => 2 ** 33 + low);
    hashes.forEach((h, i) => index.add(h, 100 + i));
    index.remove(hashes[1]!, 101);
    index.remove(hashes[3]!, 103);
    assert.deepEqual(index.rowsOf(hashes[0]!), [100]);
    assert.deepEqual(index.rowsOf(hashes[1]!), []);
    assert.deepEqual(index.rowsOf(hashes[2]!), [102]);
    assert.deepEqual(index.rowsOf(hashes[3]!), []);
    assert.deepEqual(index.rowsOf(hashes[4]!), [104]);
    assert.equal(index.size, 3);
  });

  it('loads the rows of the machine table, numbered without gaps or with them', () => {
    const dir = mkdtempSync(join(tmpdir(), 'volact-index-'));
    try {
      for (const ids of [
        [1, 2, 3, 4],
        [3, 4, 9, 200],
      ]) {
        const db = openHostDb(join(dir, `${ids.join('-')}.db`));
        const insert = db.prepare(
          "INSERT INTO machines (id, machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm, license_state, last_outcome) VALUES (?, ?, ?, 'h', 0, 0, 1, 1, 0, 'licensed', 'renewed')",
        );
        for (const id of ids) insert.run(id, `m${id}`, 1000 + id);
        const index = MachineIndex.load(db);
        for (const id of ids) assert.deepEqual(index.rowsOf(1000 + id), [id], `rows ${ids.join(',')}`);
        assert.equal(index.size, ids.length);
        db.close();
      }
      const empty = openHostDb(join(dir, 'empty.db'));
      assert.equal(MachineIndex.load(empty).size, 0);
      empty.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
