import { memoryLog } from '@volact/io';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { MINUTE, ManualClock } from '@volact/protocol';
import { DnsPublisher, defaultDnsConfig, type DnsConfig, type Send } from './dns-publisher.js';
import type { UpdateOp, UpdateResult } from './dns-update.js';
import { HostStore, migrations, openHostDb } from './host-store.js';

const signed = (rcode: string): UpdateResult => ({ rcode, rcodeNumber: 0, tsigError: null, signedAnswer: true });

/**
 * The publisher's memory of its records against a scripted DNS server: what a definite refusal,
 * a lost answer and a success each leave behind, and what `host unpublish` then does.
 */
describe('DNS publisher: published, sent-not-confirmed and refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-dns-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  let n = 0;
  let answers: ((ops: UpdateOp[]) => Promise<UpdateResult>)[];
  let sent: UpdateOp[][];
  let config: DnsConfig;
  let clock: ManualClock;
  let pub: DnsPublisher;

  const send: Send = async (_server, _zone, ops) => {
    sent.push(ops);
    const next = answers.shift();
    if (!next) throw new Error('no answer scripted');
    return next(ops);
  };
  const srvOf = (ops: UpdateOp[]) =>
    ops.map((o) =>
      `${o.op} ${o.record.type} ${String(o.record.rr.name)} ${'port' in o.record.rr ? o.record.rr.port : ''}`.trim(),
    );

  beforeEach(() => {
    const db = openHostDb(join(dir, `host-${++n}.db`));
    clock = new ManualClock(Date.UTC(2026, 10, 23, 9));
    answers = [];
    sent = [];
    config = { ...defaultDnsConfig, server: '127.0.0.1:53', domain: 'example.test', address: '127.0.0.1' };
    const key = { name: 'host1', algorithm: 'hmac-sha256' as const, secret: randomBytes(32) };
    pub = new DnsPublisher(
      new HostStore(db),
      clock,
      () => config,
      () => 1688,
      () => key,
      memoryLog(),
      () => ({ name: 'kms1', activated: true }),
      send,
    );
  });

  it('a refused update (BADSIG) leaves nothing published and nothing to clean up', async () => {
    answers.push(async () => ({ rcode: 'NOTAUTH', rcodeNumber: 9, tsigError: 16, signedAnswer: false }));
    await pub.tick();
    const s = pub.status;
    assert.deepEqual(s.published, []);
    assert.deepEqual(s.unconfirmed, []);
    assert.equal(pub.events().at(-1)!.outcome, 'refused');
    assert.deepEqual(await pub.unpublishAll(), [], 'nothing to remove');
    assert.equal(sent.length, 1, 'unpublish sent nothing');
  });

  it('a refused update (REFUSED) keeps what was published before, as published', async () => {
    answers.push(async () => signed('NOERROR'));
    await pub.tick();
    assert.deepEqual(
      pub.status.published.map((p) => p.domain),
      ['example.test'],
    );
    config = { ...config, priority: 10 };
    pub.soon();
    answers.push(async () => signed('REFUSED'));
    await pub.tick();
    const s = pub.status;
    assert.deepEqual(
      s.published.map((p) => p.records.map((r) => ('priority' in r.rr ? r.rr.priority : r.type))),
      [[0, 'A']],
      'the old record is still the published one',
    );
    assert.deepEqual(s.unconfirmed, []);
  });

  it('a lost answer keeps the records as sent, not confirmed; the next publication deletes the stale one', async () => {
    answers.push(async () => {
      throw new Error('no answer from 127.0.0.1:53 within 3000 ms');
    });
    await pub.tick();
    let s = pub.status;
    assert.deepEqual(s.published, []);
    assert.deepEqual(
      s.unconfirmed.map((u) => [u.domain, u.records.map((r) => r.type)]),
      [['example.test', ['SRV', 'A']]],
    );
    assert.equal(pub.events().at(-1)!.outcome, 'unconfirmed');

    // a new port before the retry: the unconfirmed old SRV record is deleted with the new add
    config = { ...config, priority: 5 };
    clock.advance(2 * MINUTE);
    answers.push(async () => signed('NOERROR'));
    await pub.tick();
    assert.deepEqual(srvOf(sent[1]!), [
      'delete SRV _volact._tcp.example.test 1688',
      'add SRV _volact._tcp.example.test 1688',
      'add A kms1.example.test',
    ]);
    assert.equal(
      (sent[1]![0]!.record.rr as { priority: number }).priority,
      0,
      'the stale record is the priority 0 one',
    );
    s = pub.status;
    assert.deepEqual(s.unconfirmed, []);
    assert.deepEqual(
      s.published.map((p) => p.records.length),
      [2],
    );
  });

  it('unpublish of records never confirmed: removed when the server answers, kept (not a failure) when it does not', async () => {
    answers.push(async () => {
      throw new Error('timeout');
    });
    await pub.tick();
    answers.push(async () => {
      throw new Error('timeout');
    });
    assert.deepEqual(await pub.unpublishAll(), [
      { domain: 'example.test', removed: false, confirmed: false, code: 'DNS_UPDATE_FAILED' },
    ]);
    assert.equal(pub.status.unconfirmed.length, 1, 'still remembered, so a later unpublish tries again');
    answers.push(async () => signed('NOERROR'));
    assert.deepEqual(await pub.unpublishAll(), [
      { domain: 'example.test', removed: true, confirmed: false, code: null },
    ]);
    assert.deepEqual([pub.status.published, pub.status.unconfirmed], [[], []]);
  });

  it('unpublish of published records that the server does not confirm removing keeps them published', async () => {
    answers.push(async () => signed('NOERROR'));
    await pub.tick();
    answers.push(async () => signed('SERVFAIL'));
    assert.deepEqual(await pub.unpublishAll(), [
      { domain: 'example.test', removed: false, confirmed: true, code: 'DNS_UPDATE_FAILED' },
    ]);
    assert.deepEqual(
      pub.status.published.map((p) => p.domain),
      ['example.test'],
    );
    assert.equal(pub.events().at(-1)!.outcome, 'unconfirmed');
  });

  it('an unsigned NOERROR is not a confirmation', async () => {
    answers.push(async () => ({ rcode: 'NOERROR', rcodeNumber: 0, tsigError: null, signedAnswer: false }));
    await pub.tick();
    assert.deepEqual(pub.status.published, []);
    assert.equal(pub.status.unconfirmed.length, 1);
    assert.equal(pub.events().at(-1)!.code, 'DNS_ANSWER_UNSIGNED');
  });
});

describe('DNS records kept before issue 10', () => {
  it('are migrated as sent, not confirmed: they were written before sending and never rolled back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'volact-dns-migrate-'));
    try {
      const path = join(dir, 'host.db');
      const old = new Database(path);
      // a database of schema version 3, as that version made it
      for (const m of migrations.slice(0, 3)) old.exec(m);
      const records = [
        {
          type: 'SRV',
          rr: {
            name: '_volact._tcp.example.test',
            priority: 0,
            weight: 0,
            port: 1688,
            target: 'kms1.example.test',
            ttl: 3600,
          },
        },
      ];
      old
        .prepare('INSERT INTO dns_published VALUES (?, ?, ?, ?)')
        .run('example.test', '127.0.0.1:53', JSON.stringify(records), 1000);
      old.pragma('user_version = 3');
      old.close();
      const db = openHostDb(path);
      assert.deepEqual(new HostStore(db).dnsZones(), [
        {
          domain: 'example.test',
          server: '127.0.0.1:53',
          published: [],
          publishedAt: null,
          unconfirmed: records,
          sentAt: 1000,
        },
      ]);
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
