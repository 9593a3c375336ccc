import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { generateKeyPair, hashedFingerprint, rawPublicKey } from '@volact/protocol';
import { tempDir, volact } from './harness/cli.js';
import { post, pool } from './harness/machines.js';
import { startPostgres, type Postgres } from '@volact/authority/testing';
import { type Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

/**
 * Three authority processes on one PostgreSQL: the host key limits hold across nodes because
 * the database enforces them, not a lock in one process.
 */
describe('authority nodes on one PostgreSQL', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-nodes-');
  let pg: Postgres;
  let world: AuthorityWorld;
  const nodes: Service[] = [];

  before(async () => {
    pg = await startPostgres();
    world = await makeAuthority(tmp.path, { VOLACT_AUTHORITY_DATABASE: pg.url });
    // the load below is one address (200 connections at once) and a few keys: rate limits and
    // connection caps are tested on their own nodes
    for (let i = 0; i < 3; i++)
      nodes.push(
        await world.serve({ VOLACT_AUTHORITY_DATABASE: pg.url }, [
          '--rate-per-address',
          '0',
          '--rate-per-key',
          '0',
          '--max-connections-per-address',
          '0',
        ]),
      );
  });

  after(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    pg?.stop();
    tmp.cleanup();
  });

  const activate = (node: Service, hostKey: string, hostPublicKey: string) =>
    post(
      node.port,
      '/v1/host-activations',
      JSON.stringify({ v: 1, hostKey, hostPublicKey, hostName: 'h', requestId: randomBytes(16).toString('base64url') }),
    );

  it('lets exactly 6 of 30 concurrent hosts in, then exactly 10 activations in all', async () => {
    const key = await world.issueHostKey('desk-2026');
    const pubs = Array.from({ length: 30 }, () => rawPublicKey(generateKeyPair('host').publicKey));
    const first = await Promise.all(pubs.map((pub, i) => activate(nodes[i % 3]!, key, pub)));
    const admitted = pubs.filter((_, i) => first[i]!.status === 200);
    assert.equal(admitted.length, 6);
    assert.ok(first.every((r) => r.status === 200 || r.body.code === 'KEY_LIMIT_HOSTS'));

    // the admitted hosts reactivate, 5 times each, all at once across the nodes: 4 are left of 10
    const again = await Promise.all(
      admitted.flatMap((pub) => Array.from({ length: 5 }, (_, i) => activate(nodes[i % 3]!, key, pub))),
    );
    assert.equal(again.filter((r) => r.status === 200).length, 4);
    assert.ok(again.every((r) => r.status === 200 || r.body.code === 'KEY_LIMIT_ACTIVATIONS'));

    const listed = await volact(['authority', 'host-keys', '--dir', world.dir, '--json'], {
      VOLACT_AUTHORITY_DATABASE: pg.url,
    });
    const row = listed.json.find((k: { key: string }) => key.endsWith(k.key.slice(-5)));
    assert.deepEqual([row.hostsUsed, row.hostsLimit, row.activationsUsed, row.activationsLimit], [6, 6, 10, 10]);
  });

  it('lets exactly 100 of 200 concurrent machines use a MAK of 100 across the nodes; repeats succeed without counting', async () => {
    const issued = await volact(
      ['authority', 'issue-mak', '--dir', world.dir, '--edition', 'desk-pro', '--activations', '100', '--json'],
      { VOLACT_AUTHORITY_DATABASE: pg.url },
    );
    const mak = issued.json.key as string;
    const body = (i: number) =>
      JSON.stringify({
        v: 1,
        makKey: mak,
        machineId: `node-m-${i}`,
        parts: hashedFingerprint({ osId: `os-${i}`, cpu: 'c', board: `b-${i}`, disks: [`d-${i}`], nics: [`n-${i}`] }),
        nonce: randomBytes(18).toString('base64url'),
      });
    const first = await Promise.all(
      Array.from({ length: 200 }, (_, i) => post(nodes[i % 3]!.port, '/v1/mak-activations', body(i))),
    );
    const admitted = first.flatMap((r, i) => (r.status === 200 ? [i] : []));
    assert.equal(admitted.length, 100);
    assert.ok(first.every((r) => r.status === 200 || r.body.code === 'MAK_LIMIT'));
    // the admitted machines ask again (retries after lost answers, reactivations) mixed with newcomers
    const mixed = await Promise.all([
      ...admitted.map((i) => post(nodes[(i + 1) % 3]!.port, '/v1/mak-activations', body(i))),
      ...Array.from({ length: 50 }, (_, k) => post(nodes[k % 3]!.port, '/v1/mak-activations', body(1000 + k))),
    ]);
    assert.ok(
      mixed.slice(0, 100).every((r) => r.status === 200),
      'every repeat succeeds',
    );
    assert.ok(
      mixed.slice(100).every((r) => r.status === 409 && r.body.code === 'MAK_LIMIT'),
      'no newcomer gets in',
    );
    const listed = await volact(['authority', 'maks', '--dir', world.dir, '--json'], {
      VOLACT_AUTHORITY_DATABASE: pg.url,
    });
    assert.equal(listed.json.find((m: { id: string }) => m.id === issued.json.id).activationsUsed, 100);
  });

  it('rate-limits guesses at one key across nodes, in the shared store', async () => {
    const limited = [
      await world.serve({ VOLACT_AUTHORITY_DATABASE: pg.url }, ['--rate-per-key', '5', '--rate-per-address', '0']),
      await world.serve({ VOLACT_AUTHORITY_DATABASE: pg.url }, ['--rate-per-key', '5', '--rate-per-address', '0']),
    ];
    nodes.push(...limited);
    const guess = JSON.stringify({
      v: 1,
      makKey: await world.issueHostKey('desk-2026'),
      machineId: 'guesser',
      parts: hashedFingerprint({ osId: 'g', cpu: 'g', board: 'g', disks: [], nics: [] }),
      nonce: randomBytes(18).toString('base64url'),
    });
    const answers = [];
    for (let i = 0; i < 12; i++) answers.push(await post(limited[i % 2]!.port, '/v1/mak-activations', guess));
    assert.deepEqual(
      answers.slice(0, 5).map((a) => a.body.code),
      Array(5).fill('KEY_WRONG_CLASS'),
    );
    assert.deepEqual(
      answers.slice(5).map((a) => [a.status, a.body.code]),
      Array(7).fill([429, 'RATE_LIMITED']),
    );
    const other = await post(limited[0]!.port, '/v1/mak-activations', guess.replace('guesser', 'other'));
    assert.equal(other.status, 429, 'the limit is per key, whatever the machine');

    const strict = await world.serve({ VOLACT_AUTHORITY_DATABASE: pg.url }, [
      '--rate-per-key',
      '0',
      '--rate-per-address',
      '3',
    ]);
    nodes.push(strict);
    const fromHere = [];
    for (let i = 0; i < 4; i++)
      fromHere.push(await post(strict.port, '/v1/mak-activations', guess.replace('guesser', `g${i}`)));
    assert.deepEqual(
      fromHere.map((a) => a.status),
      [400, 400, 400, 429],
    );
    assert.match(fromHere[3]!.body.message, /too many requests from address/);
  });

  it('answers a retry sent to another node with the stored answer, using nothing', async () => {
    const key = await world.issueHostKey('server-2026');
    const body = JSON.stringify({
      v: 1,
      hostKey: key,
      hostPublicKey: rawPublicKey(generateKeyPair('host').publicKey),
      hostName: 'h',
      requestId: randomBytes(16).toString('base64url'),
    });
    const answers = await pool([0, 1, 2, 0, 1, 2], 6, (n) => post(nodes[n]!.port, '/v1/host-activations', body));
    assert.ok(answers.every((a) => a.status === 200));
    assert.equal(new Set(answers.map((a) => a.body.certificate)).size, 1);
    const listed = await volact(['authority', 'host-keys', '--dir', world.dir, '--json'], {
      VOLACT_AUTHORITY_DATABASE: pg.url,
    });
    const row = listed.json.find((k: { key: string }) => key.endsWith(k.key.slice(-5)));
    assert.deepEqual([row.activationsUsed, row.activationsLimit], [1, 10]);
  });
});
