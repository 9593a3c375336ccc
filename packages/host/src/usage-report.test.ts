import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Database from 'better-sqlite3';
import { openHostDb } from './host-store.js';
import { EVENT_RETENTION_MS } from './run-host.js';
import { buildUsageReport, type UsageInput } from './usage-report.js';

const DAY = 86_400_000;
const editions: UsageInput['editions'] = new Map([
  [101, { code: 'desk-pro', name: 'Desk Pro', kind: 'client' }],
  [201, { code: 'server-standard', name: 'Server Standard', kind: 'server' }],
]);

describe('usage report from the events table', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-usage-'));
  let db: Database.Database;
  const event = (at: number, machineId: string, edition: number, outcome: string, count: number) =>
    db
      .prepare(
        `INSERT INTO events (at, event, machine_id, vm, license_state, edition, outcome, count, required, address)
         VALUES (?, 12290, ?, 0, 'licensed', ?, ?, ?, 5, '10.1.2.3')`,
      )
      .run(at, machineId, edition, outcome, count);
  const build = (from: string, to: string, now: number) =>
    buildUsageReport({ db, hostId: 'H1', groups: ['server-2026'], editions, from, to, now });

  before(() => {
    db = openHostDb(join(dir, 'host.db'));
    // the host first started on 1 October: it signs a checkpoint then, before any request
    db.prepare('INSERT INTO log_checkpoints (seq, at, jws) VALUES (0, ?, ?)').run(Date.UTC(2026, 9, 1), 'x.y.z');
    const nov = Date.UTC(2026, 10, 5);
    // one machine renewing three times in November and once in December; one waiting, then granted
    for (const d of [0, 7, 14]) event(nov + d * DAY, 'srv-a', 201, 'renewed', 5);
    event(nov + 1 * DAY, 'srv-b', 201, 'countInsufficient', 4);
    event(nov + 2 * DAY, 'srv-b', 201, 'activated', 6);
    event(nov + 2 * DAY + 1, 'srv-c', 201, 'clockSkew', 6);
    event(nov + 3 * DAY, 'pc-1', 101, 'countInsufficient', 6);
    event(nov + 3 * DAY, 'pc-1', 0, 'notActivated', 0);
    event(Date.UTC(2026, 11, 2), 'srv-a', 201, 'renewed', 3);
    // the last day of November, late in the UTC day: November's, whatever the local zone
    event(Date.UTC(2026, 11, 1) - 1, 'srv-d', 201, 'activated', 6);
  });
  after(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts distinct machines per edition and month, and requests refused', () => {
    const r = build('2026-11', '2026-12', Date.UTC(2026, 11, 10));
    const [nov, dec] = r.months;
    assert.deepEqual(nov, {
      month: '2026-11',
      editions: [
        { edition: 0, granted: 0, waiting: 0, refused: 1, requests: 1 },
        {
          edition: 101,
          code: 'desk-pro',
          name: 'Desk Pro',
          kind: 'client',
          granted: 0,
          waiting: 1,
          refused: 0,
          requests: 1,
        },
        {
          edition: 201,
          code: 'server-standard',
          name: 'Server Standard',
          kind: 'server',
          granted: 3,
          waiting: 1,
          refused: 1,
          requests: 7,
        },
      ],
      peak: { count: 6, at: Date.UTC(2026, 10, 7) },
    });
    assert.deepEqual(
      dec!.editions.map((e) => [e.code, e.granted, e.requests]),
      [['server-standard', 1, 1]],
    );
    assert.deepEqual(dec!.peak, { count: 3, at: Date.UTC(2026, 11, 2) });
    assert.deepEqual(r.peak, nov!.peak, 'the period peak is the highest month, first reached');
  });

  it('names no machine and no address', () => {
    const text = JSON.stringify(build('2026-11', '2026-12', Date.UTC(2026, 11, 10)));
    for (const secret of ['srv-a', 'srv-b', 'srv-c', 'srv-d', 'pc-1', '10.1.2.3'])
      assert.ok(!text.includes(secret), secret);
  });

  it('covers the period only up to now, and only as far back as events are kept', () => {
    const now = Date.UTC(2026, 11, 10, 12);
    const r = build('2026-11-03', '2027-01-31', now);
    assert.equal(r.coveredFrom, Date.UTC(2026, 10, 3));
    assert.equal(r.coveredTo, now);
    assert.deepEqual(
      r.months.map((m) => m.month),
      ['2026-11', '2026-12', '2027-01'],
    );
    assert.equal(r.months[2]!.peak, null);

    const later = Date.UTC(2027, 2, 1);
    const late = build('2026-11', '2027-02', later);
    assert.equal(late.coveredFrom, later - EVENT_RETENTION_MS, 'November is older than the 90 days kept');
    assert.equal(late.months[0]!.editions.length, 0, 'days before coveredFrom are unknown, not counted');
    const gone = build('2026-01', '2026-02', later);
    assert.equal(gone.coveredFrom, gone.coveredTo, 'a period wholly before the events kept covers nothing');
    assert.equal(gone.peak, null);
  });

  it('claims nothing before the database knew the host: a new host covers the days since its first start', () => {
    const fresh = openHostDb(join(dir, 'fresh.db'));
    try {
      const started = Date.UTC(2026, 11, 5, 8);
      fresh.prepare('INSERT INTO log_checkpoints (seq, at, jws) VALUES (0, ?, ?)').run(started, 'x.y.z');
      const now = Date.UTC(2026, 11, 10);
      const r = buildUsageReport({
        db: fresh,
        hostId: 'H2',
        groups: ['server-2026'],
        editions,
        from: '2026-11',
        to: '2026-12',
        now,
      });
      assert.equal(r.coveredFrom, started, 'not 1 November: the database did not exist then');
      assert.equal(r.months[0]!.editions.length, 0);
    } finally {
      fresh.close();
    }
  });

  it('refuses a period that starts after now', () => {
    assert.throws(() => build('2027-01', '2027-02', Date.UTC(2026, 11, 10)), { code: 'USAGE_PERIOD_INVALID' });
  });
});
