import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DAY, HOUR } from '@volact/protocol';
import { openHostDb } from './host-store.js';
import { MachineCounter } from './machine-counter.js';

describe('MachineCounter', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-counter-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const db = openHostDb(join(dir, 'host.db'));
  const window = 30 * DAY;
  const t0 = Date.UTC(2026, 5, 1);

  it('matches a full count of the window at every moment, across 100,000 machines', () => {
    const counter = new MachineCounter(db, window);
    const insert = db.prepare(
      "INSERT INTO machines (machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm, license_state, last_outcome) VALUES (?, volact_id_hash((SELECT key FROM machine_hash_key), ?), 'h', ?, ?, 1, 1, 0, 'licensed', 'renewed')",
    );
    let seed = 7;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    db.transaction(() => {
      for (let i = 0; i < 100_000; i++) {
        const seen = t0 + Math.floor(rand() * 60 * DAY);
        insert.run(`m${i}`, `m${i}`, seen, seen);
        counter.moved(undefined, seen);
      }
      counter.flush(t0);
    })();
    const truth = db.prepare('SELECT COUNT(*) AS n FROM machines WHERE last_seen >= ?');
    for (const at of [
      t0 + 10 * DAY,
      t0 + 30 * DAY + 17 * 60_000,
      t0 + 45 * DAY + 3 * HOUR + 1,
      t0 + 59 * DAY,
      t0 + 95 * DAY,
    ]) {
      assert.equal(counter.count(at), (truth.get(at - window) as { n: number }).n, `at ${new Date(at).toISOString()}`);
    }
    // a restart reads the stored hour tallies and agrees
    assert.equal(new MachineCounter(db, window).count(t0 + 45 * DAY), counter.count(t0 + 45 * DAY));
  });

  it('reads the count through the last-seen index, never by scanning the machine table', () => {
    const plan = db
      .prepare('EXPLAIN QUERY PLAN SELECT COUNT(*) AS n FROM machines WHERE last_seen >= ? AND last_seen < ?')
      .all(1, 2) as { detail: string }[];
    assert.ok(
      plan.some((p) => /SEARCH machines USING COVERING INDEX machines_last_seen/.test(p.detail)),
      JSON.stringify(plan),
    );
    assert.ok(!plan.some((p) => /^SCAN machines/.test(p.detail)));
  });
});
