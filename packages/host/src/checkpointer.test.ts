import { memoryLog } from '@volact/io';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { Checkpointer } from './checkpointer.js';
import { openHostDb } from './host-store.js';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond` holds, up to 20 s: the thread is slower on a loaded machine, never wrong. */
async function until(cond: () => boolean, step?: () => void): Promise<void> {
  for (const end = performance.now() + 20_000; !cond() && performance.now() < end;) {
    step?.();
    await wait(10);
  }
}

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
    const wal = new Checkpointer(db, path, memoryLog(), { everyMs: 0, chain: 2, maxDrainMs: 2000, giveUpMs: 10_000 });
    const seq = { n: 0 };
    try {
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'no checkpoint inside a commit');
      for (let round = 0; round < 40; round++) {
        commit(db, wal, 200, seq);
        await wait(5);
      }
      await until(
        () => wal.stats.passes > 5,
        () => commit(db, wal, 200, seq),
      );
      assert.ok(wal.stats.passes > 5, `${wal.stats.passes} passes`);
      assert.equal(wal.stats.failed, null);
      // 8,000 rows and more of ~250 bytes went through the log; it starts over and is a few frames
      await until(
        () => !wal.paused && wal.stats.walFrames < 100,
        () => commit(db, wal, 1, seq),
      );
      assert.ok(wal.stats.walFrames < 100, `${wal.stats.walFrames} frames left in the log`);
    } finally {
      await wal.stop();
      db.close();
    }
    const again = openHostDb(path); // its rows: migration 7 adds the counter log:offset
    assert.equal(
      (again.prepare("SELECT COUNT(*) AS n FROM counters WHERE name LIKE 'c%'").get() as { n: number }).n,
      seq.n,
    );
    again.close();
  });

  it('holds commits while the log is drained for a restart, then lets them go on', async () => {
    const path = join(dir, 'b.db');
    const db = openHostDb(path);
    const resumed: number[] = [];
    let pausedInDrain: boolean | undefined;
    // chain 0: a pass that commits overtook ends in a drain at once
    const wal: Checkpointer = new Checkpointer(db, path, memoryLog(), {
      everyMs: 0,
      chain: 0,
      maxDrainMs: 2000,
      giveUpMs: 10_000,
      onDrain: () => {
        pausedInDrain = wal.paused;
        wal.whenResumed(() => resumed.push(performance.now()));
        assert.equal(resumed.length, 0, 'not while the drain lasts');
      },
    });
    try {
      const seq = { n: 0 };
      // the first commit starts a pass; the two after it overtake that pass, whatever the speed
      // of this machine, because the pass's answer cannot arrive before this turn ends
      for (let i = 0; i < 3; i++) commit(db, wal, 100, seq);
      await until(() => resumed.length > 0);
      assert.equal(pausedInDrain, true, 'a drain holds commits');
      assert.equal(wal.stats.drains, 1);
      assert.equal(wal.stats.drainsGivenUp, 0, 'and ends when the log is copied to its end');
      assert.equal(wal.paused, false);
      assert.equal(resumed.length, 1, 'then lets them go on');
    } finally {
      await wal.stop();
      db.close();
    }
  });

  it('gives a drain up at once while a reader holds the log, and does not hold commits over and over', async () => {
    const path = join(dir, 'd.db');
    const db = openHostDb(path);
    const wal = new Checkpointer(db, path, memoryLog(), { everyMs: 50, chain: 2, maxDrainMs: 2000, giveUpMs: 10_000 });
    const reader = new Database(path, { readonly: true });
    const seq = { n: 0 };
    try {
      for (let i = 0; i < 5; i++) commit(db, wal, 50, seq);
      // a reader keeps its snapshot (a backup, a long report): the log cannot be copied past it
      const rows = reader.prepare('SELECT * FROM counters').iterate();
      rows.next();
      let held = 0;
      let ticks = 0;
      for (const end = performance.now() + 1500; performance.now() < end; ticks++) {
        if (wal.paused) held++;
        else commit(db, wal, 50, seq);
        await wait(5);
      }
      rows.return?.();
      assert.ok(wal.stats.drains >= 1, 'a drain was tried');
      assert.equal(wal.stats.drainsGivenUp, wal.stats.drains, 'and given up');
      assert.equal(wal.stats.drains, 1, 'once in 10 s');
      assert.ok(held <= 2, `commits held in ${held} of ${ticks} turns`);
      assert.ok(wal.stats.maxDrainMs < 500, `the drain held commits ${wal.stats.maxDrainMs} ms`);
      // at most 3 passes (one and its chain) every 50 ms: about 90; spinning made thousands
      assert.ok(wal.stats.passes < 500, `${wal.stats.passes} passes: the thread does not spin`);
    } finally {
      reader.close();
      await wal.stop();
      db.close();
    }
  });

  it('falls back to checkpoints in the commit when its thread cannot open the database', async () => {
    const path = join(dir, 'c.db');
    const db = openHostDb(path);
    const lines: string[] = [];
    const wal = new Checkpointer(db, dir /* a directory: the thread cannot open it */, memoryLog(lines), {
      everyMs: 0,
      chain: 2,
      maxDrainMs: 2000,
      giveUpMs: 10_000,
    });
    try {
      const seq = { n: 0 };
      commit(db, wal, 10, seq);
      await until(() => wal.stats.failed !== null);
      assert.match(wal.stats.failed ?? '', /.+/);
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 10000, 'SQLite checkpoints in commits again');
      assert.match(lines.join('\n'), /the checkpoint thread failed/);
      commit(db, wal, 10, seq);
    } finally {
      await wal.stop();
      db.close();
    }
    assert.ok(statSync(path).size > 0);
  });
});
