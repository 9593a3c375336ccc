import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import { createServer } from 'node:tls';
import { DAY, VolactError } from '@volact/protocol';
import type Database from 'better-sqlite3';
import { openHostDb } from './host-store.js';
import {
  countHistory,
  eventFilter,
  machineFilter,
  machinePage,
  machineSummary,
  sampleCount,
} from './console-queries.js';
import { consoleCertificate } from './console-cert.js';
import { ConsoleTokens } from './console-tokens.js';
import { verifyHostLog } from './log-verify.js';

const NOW = Date.UTC(2026, 5, 1);
const editions = [
  { number: 1, name: 'Desk Pro', kind: 'client' as const },
  { number: 2, name: 'Server Standard', kind: 'server' as const },
];
const url = (q: string) => new URL(`http://local/api/machines?${q}`);

describe('console machine paging and filters', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-console-q-'));
  let db: Database.Database;
  after(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  before(() => {
    db = openHostDb(join(dir, 'host.db'));
    const insert = db.prepare(
      `INSERT INTO machines (machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm,
         license_state, last_outcome, fingerprints, machine_name) VALUES (?, ?, 'fp', ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (let i = 0; i < 100; i++)
      insert.run(
        `id-${String(i).padStart(3, '0')}`,
        i,
        NOW - (200 - i) * DAY,
        // several machines share a last-seen time: the row ID breaks the tie
        NOW - Math.floor(i / 3) * DAY,
        i % 7,
        1 + (i % 2),
        i % 4 === 0 ? 1 : 0,
        i % 5 === 0 ? 'initialGrace' : 'licensed',
        i % 10 === 0 ? 'countInsufficient' : 'renewed',
        i % 25 === 0 ? 2 : 1,
        i % 2 ? `PC-${i}` : null,
      );
  });

  const all = (q: string) => {
    const out: string[] = [];
    let cursor: string | null = null;
    do {
      const f = machineFilter(url(`${q}${cursor ? `&cursor=${cursor}` : ''}`));
      const page = machinePage(db, f, NOW, editions);
      out.push(...page.machines.map((m) => m.machineId));
      cursor = page.nextCursor;
    } while (cursor);
    return out;
  };

  it('lists every machine once in each sort and order, across ties', () => {
    for (const sort of ['lastSeen', 'firstSeen', 'name', 'requests'])
      for (const order of ['asc', 'desc']) {
        const ids = all(`limit=9&sort=${sort}&order=${order}`);
        assert.equal(ids.length, 100, `${sort} ${order}`);
        assert.equal(new Set(ids).size, 100, `${sort} ${order}`);
      }
  });

  it('filters by state, kind, VM, last seen, fingerprints and text, and counts only unfiltered', () => {
    assert.equal(all('limit=50&vm=true').length, 25);
    assert.equal(all('limit=50&kind=server').length, 50);
    assert.equal(all('limit=50&edition=1').length, 50);
    assert.equal(all('limit=50&fingerprints=several').length, 4);
    assert.equal(all('limit=50&seenWithinDays=3').length, 12); // last seen 0 to 3 days ago, 3 machines a day
    assert.equal(all('limit=50&q=id-04').length, 10);
    assert.deepEqual(all('limit=50&q=PC-99'), ['id-099']);
    assert.equal(all('limit=50&q=%25').length, 0, 'LIKE wildcards are literal');
    const grace = all('limit=50&state=grace');
    assert.equal(grace.length, 10); // reported initialGrace, and not granted last (i % 5, not i % 10)
    const summary = machineSummary(db, NOW, 15);
    assert.equal(summary.total, 100);
    assert.equal(summary.licensed + summary.grace + summary.notification + summary.unlicensed, 100);
    assert.equal(summary.grace, 10);
    const first = machinePage(db, machineFilter(url('limit=5')), NOW, editions);
    assert.equal(first.total, 100);
    assert.equal(machinePage(db, machineFilter(url('limit=5&vm=false')), NOW, editions).total, null);
    const m = first.machines[0]!;
    assert.equal(m.editionName, 'Desk Pro');
    assert.equal(m.licenseState, 'licensed');
    assert.equal(Date.parse(m.expiresAt!), Date.parse(m.lastSeen) + 180 * DAY);
  });

  it('refuses bad values with BAD_REQUEST naming the field', () => {
    for (const [q, field] of [
      ['limit=0', 'limit'],
      ['limit=x', 'limit'],
      ['state=on', 'state'],
      ['kind=desktop', 'kind'],
      ['vm=yes', 'vm'],
      ['sort=machine_id', 'sort'],
      ['order=up', 'order'],
      ['seenWithinDays=-1', 'seenWithinDays'],
      ['q=' + 'a'.repeat(101), 'q'],
    ])
      assert.throws(
        () => machineFilter(url(q!)),
        (e: unknown) => e instanceof VolactError && e.code === 'BAD_REQUEST' && e.params.field === field,
        q,
      );
    const bad = Buffer.from(JSON.stringify(['x', 1])).toString('base64url');
    assert.throws(() => machinePage(db, machineFilter(url(`cursor=${bad}`)), NOW, editions), /cursor/);
    assert.throws(() => eventFilter(new URL('http://l/api/events?until=soon')), /until/);
  });

  it('samples the count hourly, with the count now as the last point', () => {
    for (let h = 48; h > 0; h--) sampleCount(db, NOW - h * 3_600_000, 100 - h);
    sampleCount(db, NOW - 30 * 60_000, 99); // the same hour again: replaced
    const points = countHistory(db, NOW, 30, 123);
    assert.equal(points.length, 49);
    assert.deepEqual(points.at(-1), { at: new Date(NOW).toISOString(), count: 123 });
    assert.equal(points[0]!.count, 52);
  });
});

describe('console tokens and certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-console-t-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('stores only a hash, chains create and revoke in the log, which stays intact', async () => {
    const db = openHostDb(join(dir, 'host.db'));
    const tokens = new ConsoleTokens(db);
    const made = tokens.create('alice', 'admin', NOW);
    assert.deepEqual(tokens.check(made.token).scopes, ['read', 'admin']);
    const row = db.prepare('SELECT * FROM console_tokens').get() as Record<string, unknown>;
    assert.ok(!JSON.stringify(row).includes(made.token.slice(17)));
    tokens.revoke(made.id, NOW + 1);
    assert.throws(() => tokens.check(made.token), /TOKEN_INVALID|not valid/);
    assert.equal(tokens.current(made.id), undefined);
    const names = db.prepare('SELECT name, new_value FROM settings_log').all() as { name: string; new_value: string }[];
    assert.deepEqual(
      names.filter((n) => n.name.startsWith('token:')).map((n) => JSON.parse(n.new_value).state),
      ['created', 'revoked'],
    );
    const { generateKeyPair } = await import('@volact/protocol');
    // the chain is intact (its signature checks need the host key; only the links are asked here)
    const report = verifyHostLog(db, generateKeyPair('host').publicKey);
    assert.ok(report.records >= 2);
    assert.notEqual(report.first?.problem, 'edited');
    db.close();
  });

  it('makes a certificate Node’s TLS accepts, and keeps it (same fingerprint) at the next start', async () => {
    const a = consoleCertificate(dir, {}, 'host-1.example', new Date(NOW));
    const b = consoleCertificate(dir, {}, 'host-1.example', new Date(NOW + DAY));
    assert.equal(a.fingerprint, b.fingerprint);
    const server = createServer({ cert: a.cert, key: a.key }, (s) => s.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    try {
      for (const servername of ['localhost', 'host-1.example']) {
        const text = await new Promise<string>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port, ca: a.cert, servername }, () =>
            s.on('data', (d) => resolve(String(d))),
          );
          s.once('error', reject);
        });
        assert.equal(text, 'ok');
      }
    } finally {
      server.close();
    }
    assert.throws(
      () => consoleCertificate(dir, { certFile: join(dir, 'console.crt') }, 'h', new Date(NOW)),
      /together/,
    );
  });
});
