import { memoryLog, silentLog } from '@volact/io';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { DAY, ManualClock, generateKeyPair, signDocument, docTypes, type KeyPair } from '@volact/protocol';
import { Host } from './host.js';
import { migrations, openHostDb } from './host-store.js';
import { eventFields, recordHash, type FieldValue } from './log-chain.js';
import { verifyHostLog } from './log-verify.js';

const start = Date.UTC(2026, 2, 1);

type Row = Record<string, FieldValue | Buffer>;
/** An event row's fields as hashed, with another address. */
const withAddress = (row: Row, address: string): FieldValue[] =>
  eventFields.map((f) => (f === 'address' ? address : (row[f] as FieldValue)));

/** A host (not activated: every request is still an event 12290) that answered `n` requests. */
function makeHost(path: string, clock: ManualClock, keyPair: KeyPair) {
  const db = openHostDb(path);
  const host = new Host({ db, clock, keyPair, roots: [], hostName: 'log-unit', log: silentLog });
  const ask = (machineId: string) =>
    host.activateClient(
      {
        v: 1,
        machineId,
        fingerprintHash: createHash('sha256').update(machineId).digest('base64url'),
        setupKey: 'X',
        nonce: randomBytes(18).toString('base64url'),
        clientTime: clock.now(),
        licenseState: 'initialGrace',
        vm: false,
      },
      '10.0.0.7',
    );
  return { db, host, ask };
}

describe('host log: hash chain and checkpoints', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-log-unit-'));
  const keyPair = generateKeyPair('host');
  const base = join(dir, 'base.db');
  let n = 0;

  before(async () => {
    const clock = new ManualClock(start);
    const { db, host, ask } = makeHost(base, clock, keyPair);
    // seq 1..3 events, 4 a setting, 5..7 events, 8 a setting, 9..10 events; a checkpoint at 10
    for (const m of ['m1', 'm2', 'm3']) await ask(m);
    host.setSetting('renewalMinutes', 60);
    for (const m of ['m4', 'm5', 'm6']) {
      clock.advance(60_000);
      await ask(m);
    }
    host.setSetting('renewalMinutes', 120);
    host.setSetting('renewalMinutes', 120); // unchanged: not a change, not a record
    for (const m of ['m7', 'm8']) await ask(m);
    assert.equal(host.checkpointLog(), 10);
    assert.equal(host.checkpointLog(), undefined, 'nothing new: no second checkpoint');
    db.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  /** A copy of the base log, changed by `tamper`, then verified. */
  function check(tamper: (db: Database.Database) => void) {
    const path = join(dir, `case-${++n}.db`);
    copyFileSync(base, path);
    const db = new Database(path);
    tamper(db);
    const report = verifyHostLog(db, keyPair.publicKey);
    db.close();
    return report;
  }

  it('passes an intact log: ten records, one checkpoint, none unsigned', () => {
    const r = check(() => {});
    assert.equal(r.intact, true, JSON.stringify(r.first));
    assert.deepEqual([r.records, r.firstSeq, r.lastSeq, r.checkpoints, r.unsigned], [10, 1, 10, 1, 0]);
    assert.equal(r.newestCheckpoint?.seq, 10);
  });

  it('names an edited event as edited', () => {
    const r = check((db) => db.prepare("UPDATE events SET outcome = 'activated' WHERE seq = 6").run());
    assert.deepEqual([r.intact, r.first?.kind, r.first?.seq, r.first?.problem], [false, 'event', 6, 'edited']);
  });

  it('names an edited settings change as edited', () => {
    const r = check((db) => db.prepare("UPDATE settings_log SET new_value = '15' WHERE seq = 8").run());
    assert.deepEqual([r.first?.kind, r.first?.seq, r.first?.problem], ['setting', 8, 'edited']);
  });

  it('names an edited record whose hash was computed again by the one before the next', () => {
    const r = check((db) => {
      const row = db.prepare('SELECT * FROM events WHERE seq = 2').get() as Row;
      const hash = recordHash('event', 2, row.prev as Buffer, withAddress(row, '192.168.1.1'));
      db.prepare("UPDATE events SET address = '192.168.1.1', hash = ? WHERE seq = 2").run(hash);
    });
    assert.deepEqual([r.first?.kind, r.first?.seq, r.first?.problem], ['event', 2, 'edited']);
  });

  it('names a deleted middle event as deleted', () => {
    const r = check((db) => db.prepare('DELETE FROM events WHERE seq = 5').run());
    assert.deepEqual([r.first?.seq, r.first?.problem], [5, 'deleted']);
  });

  it('names two events whose contents were swapped as reordered', () => {
    const r = check((db) => {
      const cols = 'at, machine_id, outcome, count';
      const a = db.prepare(`SELECT ${cols} FROM events WHERE seq = 2`).get() as Record<string, unknown>;
      const b = db.prepare(`SELECT ${cols} FROM events WHERE seq = 3`).get() as Record<string, unknown>;
      const set = db.prepare('UPDATE events SET at = ?, machine_id = ?, outcome = ?, count = ? WHERE seq = ?');
      set.run(b.at, b.machine_id, b.outcome, b.count, 2);
      set.run(a.at, a.machine_id, a.outcome, a.count, 3);
    });
    assert.deepEqual([r.first?.seq, r.first?.problem], [2, 'reordered']);
    assert.match(r.first!.detail, /content of record 3/);
  });

  it('names an event moved to a later row (chain columns and all) as reordered', () => {
    const r = check((db) => {
      const max = (db.prepare('SELECT max(id) AS m FROM events').get() as { m: number }).m;
      db.prepare('UPDATE events SET id = ? WHERE seq = 6').run(max + 1);
    });
    assert.deepEqual([r.first?.seq, r.first?.problem], [6, 'reordered']);
  });

  it('names the last events deleted before the checkpoint as deleted', () => {
    const r = check((db) => db.prepare('DELETE FROM events WHERE seq >= 9').run());
    assert.deepEqual([r.first?.seq, r.first?.problem], [9, 'deleted']);
  });

  it('names the first events deleted as deleted', () => {
    const r = check((db) => db.prepare('DELETE FROM events WHERE seq <= 2').run());
    assert.deepEqual([r.first?.seq, r.first?.problem], [1, 'deleted']);
  });

  it('names a forged checkpoint (another key) and a rewritten chain', () => {
    const other = generateKeyPair('host');
    const r = check((db) => {
      const jws = signDocument(other, docTypes.logCheckpoint, 1, {
        hostId: 'Hforged',
        seq: 10,
        hash: Buffer.alloc(32).toString('base64url'),
        firstSeq: 1,
        at: start,
      });
      db.prepare('UPDATE log_checkpoints SET jws = ?').run(jws);
    });
    assert.deepEqual([r.first?.kind, r.first?.problem], ['checkpoint', 'checkpoint']);
    // the whole chain hashed again from seq 9: every link holds, but the checkpoint signed another record 10
    const s = check((db) => {
      const rows = db.prepare('SELECT * FROM events WHERE seq >= 9 ORDER BY seq').all() as Row[];
      let prev = rows[0]!.prev as Buffer;
      for (const row of rows) {
        const hash = recordHash('event', row.seq as number, prev, withAddress(row, '10.9.9.9'));
        db.prepare("UPDATE events SET address = '10.9.9.9', prev = ?, hash = ? WHERE id = ?").run(
          prev,
          hash,
          row['id'],
        );
        prev = hash;
      }
    });
    assert.deepEqual([s.first?.seq, s.first?.problem], [10, 'checkpoint']);
  });

  it('finds events deleted from the tail after the newest checkpoint by the counters', async () => {
    const path = join(dir, 'tail.db');
    copyFileSync(base, path);
    const clock = new ManualClock(start + DAY);
    const { db, ask } = makeHost(path, clock, keyPair);
    await ask('m9');
    await ask('m10');
    db.prepare('DELETE FROM events WHERE seq = 12').run();
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([r.lastSeq, r.unsigned], [11, 1]);
    assert.deepEqual([r.first?.kind, r.first?.seq, r.first?.problem], ['event', 12, 'deleted']);
    // the counters edited to match as well: not found (documented)
    db.prepare("UPDATE counters SET n = n - 1 WHERE name = 'total'").run();
    assert.equal(verifyHostLog(db, keyPair.publicKey).intact, true);
    db.close();
  });

  it('finds newer checkpoints deleted: a record written more than 25 hours after the newest one kept', async () => {
    const path = join(dir, 'late.db');
    copyFileSync(base, path);
    const clock = new ManualClock(start + 2 * DAY);
    const { db, host, ask } = makeHost(path, clock, keyPair);
    await ask('m9');
    host.checkpointLog();
    db.prepare('DELETE FROM log_checkpoints WHERE seq = 11').run();
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([r.first?.kind, r.first?.seq, r.first?.problem], ['event', 11, 'deleted']);
    db.close();
  });

  it('starts a host whose checkpoint row is damaged, and names the checkpoint', async () => {
    const path = join(dir, 'damaged.db');
    copyFileSync(base, path);
    const raw = new Database(path);
    raw.prepare("UPDATE log_checkpoints SET jws = 'not a jws'").run();
    raw.close();
    const { db, ask } = makeHost(path, new ManualClock(start + DAY), keyPair);
    await ask('after');
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([r.records, r.first?.kind, r.first?.problem], [11, 'checkpoint', 'checkpoint']);
    db.close();
  });

  it('keeps the log verifiable after pruning, and finds the front cut beyond the checkpoint', async () => {
    const path = join(dir, 'pruned.db');
    copyFileSync(base, path);
    const clock = new ManualClock(start + 91 * DAY);
    const { db, host, ask } = makeHost(path, clock, keyPair);
    for (const m of ['n1', 'n2', 'n3']) await ask(m);
    host.setSetting('retryMinutes', 30);
    assert.equal(host.pruneEvents(90 * DAY), 8, 'the 8 old events go (the two old settings changes too)');
    host.checkpointLog();
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.equal(r.intact, true, JSON.stringify(r.first));
    // renewalMinutes lost its last record (seq 8) to the prune: restated as record 15
    assert.deepEqual([r.records, r.firstSeq, r.lastSeq], [5, 11, 15]);
    db.prepare('DELETE FROM events WHERE seq = 11').run();
    const cut = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([cut.first?.seq, cut.first?.problem], [11, 'deleted']);
    db.close();
  });

  it('signs a checkpoint at least daily: again after a day without records, not before', async () => {
    const path = join(dir, 'daily.db');
    copyFileSync(base, path);
    const clock = new ManualClock(start + 3 * 60_000); // the time of the base log's checkpoint
    const { db, host } = makeHost(path, clock, keyPair);
    clock.advance(DAY - 1);
    assert.equal(host.checkpointLog(DAY), undefined, 'nothing new, and the last one is younger than a day');
    clock.advance(1);
    assert.equal(host.checkpointLog(DAY), 10, 'a day old: signed again');
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([r.intact, r.checkpoints, r.newestCheckpoint?.at], [true, 2, new Date(clock.now()).toISOString()]);
    db.close();
  });

  it('never links a record that was not committed: a failed batch leaves the chain whole', async () => {
    const path = join(dir, 'rollback.db');
    copyFileSync(base, path);
    const { db, ask } = makeHost(path, new ManualClock(start + DAY), keyPair);
    db.exec("CREATE TRIGGER fail BEFORE INSERT ON counters BEGIN SELECT RAISE(ABORT, 'disk full'); END");
    await assert.rejects(ask('lost'), { code: 'INTERNAL' });
    db.exec('DROP TRIGGER fail');
    await ask('kept');
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([r.intact, r.lastSeq], [true, 11]);
    db.close();
  });

  it('chains the events of a database made before the log existed, at migration', () => {
    const path = join(dir, 'v5.db');
    const old = new Database(path);
    old.function('volact_id_hash', (_key: unknown, _id: unknown) => 0);
    for (const m of migrations.slice(0, 5)) old.exec(m);
    old.pragma('user_version = 5');
    const ins = old.prepare(
      "INSERT INTO events (at, event, machine_id, vm, license_state, edition, outcome, count, required, address) VALUES (?, 12290, ?, 0, 'initialGrace', 0, 'notActivated', 0, 0, NULL)",
    );
    for (let i = 0; i < 5; i++) ins.run(start + i, `old-${i}`);
    // two requests' events already pruned, and a setting stored without a record: restated at migration 7
    old.exec(
      `INSERT INTO counters (name, n) VALUES ('total', 7); INSERT INTO settings VALUES ('renewalMinutes', '90')`,
    );
    old.close();
    const db = openHostDb(path);
    const unsigned = verifyHostLog(db, keyPair.publicKey);
    assert.deepEqual([unsigned.records, unsigned.lastSeq], [6, 6], 'every old event chained, the setting restated');
    assert.deepEqual([unsigned.first?.kind, unsigned.first?.problem], ['checkpoint', 'deleted'], 'no checkpoint yet');
    // the host signs one at start (run-host.ts)
    new Host({
      db,
      clock: new ManualClock(start + DAY),
      keyPair,
      roots: [],
      hostName: 'v5',
      log: silentLog,
    }).checkpointLog();
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.equal(r.intact, true, JSON.stringify(r.first));
    assert.deepEqual([r.records, r.firstSeq, r.lastSeq, r.checkpoints], [6, 1, 6, 1]);
    db.close();
  });

  it('names a setting edited in the settings table alone, and one stored without a record', () => {
    const r = check((db) => db.prepare("UPDATE settings SET value = '45' WHERE name = 'renewalMinutes'").run());
    assert.deepEqual([r.first?.kind, r.first?.seq, r.first?.problem], ['setting', 8, 'edited']);
    assert.match(r.first!.detail, /renewalMinutes is 45 in the settings table, but its newest record sets 120/);
    const added = check((db) => db.prepare(`INSERT INTO settings VALUES ('servedNetworks', '["0.0.0.0/0"]')`).run());
    assert.deepEqual([added.first?.kind, added.first?.problem], ['setting', 'edited']);
    assert.match(added.first!.detail, /servedNetworks is stored without a record/);
  });

  it('finds a machine seen more than 25 hours after the newest checkpoint, and the log wiped', async () => {
    // (the base host is not activated: it keeps no machines; one as an activated host would)
    const seen = check((db) =>
      db
        .prepare(
          `INSERT INTO machines (machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm, license_state, last_outcome)
           VALUES ('m', 0, 'f', ?, ?, 1, 1, 0, 'licensed', 'renewed')`,
        )
        .run(start, start + 2 * DAY),
    );
    assert.deepEqual([seen.first?.kind, seen.first?.seq, seen.first?.problem], ['checkpoint', 11, 'deleted']);
    const wiped = check((db) => db.exec('DELETE FROM events; DELETE FROM settings_log; DELETE FROM log_checkpoints'));
    assert.deepEqual([wiped.intact, wiped.first?.kind, wiped.first?.problem], [false, 'checkpoint', 'deleted']);
  });

  it('logs each checkpoint it writes, the one of a prune too, with what verify-log shows of the newest', async () => {
    const path = join(dir, 'logged.db');
    copyFileSync(base, path);
    const db = openHostDb(path);
    const log = memoryLog();
    const clock = new ManualClock(start + 91 * DAY);
    const host = new Host({ db, clock, keyPair, roots: [], hostName: 'log-unit', log });
    host.pruneEvents(90 * DAY);
    host.checkpointLog(DAY);
    const lines = log.entries.filter((e) => e.msg === 'log checkpoint');
    assert.deepEqual(
      lines.map((e) => (e as { seq?: number }).seq),
      [10, 11],
      'the prune one, then the head (the restated setting)',
    );
    const r = verifyHostLog(db, keyPair.publicKey);
    assert.equal(r.intact, true, JSON.stringify(r.first));
    assert.deepEqual(lines.at(-1), { level: 'info', msg: 'log checkpoint', ...r.newestCheckpoint });
    db.close();
  });
});
