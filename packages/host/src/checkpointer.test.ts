import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Checkpointer } from './checkpointer.js';
import { openHostDb } from './host-store.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Commits like the activation batch does, telling the checkpointer after each one. */
function commit(db: ReturnType<typeof openHostDb>, wal: Checkpointer, rows: number, seq: { n: number }): void {
  const insert = db.prepare('INSERT INTO counters (name, n) VALUES (?, ?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) insert.run(`c${seq.n++}-${'x'.repeat(200)}`, i);
  }).immediate();
  wal.committed();
}

describe('Checkpointer', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-ckpt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('takes checkpoints out of commits, copies on its own thread, and starts the log over', async () => {
    const path = join(dir, 'a.db');
    const db = openHostDb(path);
    const wal = new Checkpointer(db, path, () => {}, { everyMs: 0, chain: 2, maxDrainMs: 2000 });
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'no checkpoint inside a commit');
    const seq = { n: 0 };
    for (let round = 0; round < 40; round++) {
      commit(db, wal, 200, seq);
      await wait(5);
    }
    await wait(300);
    commit(db, wal, 1, seq);
    await wait(300);
    assert.ok(wal.stats.passes > 5, `${wal.stats.passes} passes`);
    assert.equal(wal.stats.failed, null);
    // 8,000 rows of ~250 bytes went through the log; it started over and is a few frames now
    assert.ok(wal.stats.walFrames < 100, `${wal.stats.walFrames} frames left in the log`);
    await wal.stop();
    db.close();
    const again = openHostDb(path);
    assert.equal((again.prepare('SELECT COUNT(*) AS n FROM counters').get() as { n: number }).n, seq.n);
    again.close();
  });

  it('holds commits while the log is drained for a restart, then lets them go on', async () => {
    const path = join(dir, 'b.db');
    const db = openHostDb(path);
    // chain 0: a pass that commits overtook ends in a drain at once
    const wal = new Checkpointer(db, path, () => {}, { everyMs: 0, chain: 0, maxDrainMs: 2000 });
    const seq = { n: 0 };
    let sawPause = false;
    const resumed: number[] = [];
    for (let i = 0; i < 200 && !sawPause; i++) {
      commit(db, wal, 100, seq);
      if (wal.paused) {
        sawPause = true;
        wal.whenResumed(() => resumed.push(performance.now()));
      }
      await new Promise((r) => setImmediate(r));
    }
    assert.ok(sawPause, 'a drain held commits');
    await wait(500);
    assert.equal(resumed.length, 1, 'and let them go on');
    assert.equal(wal.paused, false);
    assert.ok(wal.stats.drains >= 1);
    await wal.stop();
    db.close();
  });

  it('falls back to checkpoints in the commit when its thread cannot open the database', async () => {
    const path = join(dir, 'c.db');
    const db = openHostDb(path);
    const lines: string[] = [];
    const wal = new Checkpointer(db, dir /* a directory: the thread cannot open it */, (l) => lines.push(l), { everyMs: 0, chain: 2, maxDrainMs: 2000 });
    const seq = { n: 0 };
    commit(db, wal, 10, seq);
    await wait(500);
    assert.match(wal.stats.failed ?? '', /.+/);
    assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 10000, 'SQLite checkpoints in commits again');
    assert.match(lines.join('\n'), /the checkpoint thread failed/);
    commit(db, wal, 10, seq);
    await wal.stop();
    db.close();
    assert.ok(statSync(path).size > 0);
  });
});
