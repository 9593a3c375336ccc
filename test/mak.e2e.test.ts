import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

const DAY = 86_400_000;

/** MAK activation through the CLI against a real authority process, hardware changes included. */
describe('MAK activation', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-mak-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  const fpFile = () => join(tmp.path, 'fingerprint.json');
  const writeFp = (over: Record<string, unknown> = {}) =>
    writeFileSync(
      fpFile(),
      JSON.stringify({
        osId: 'os-mak-1',
        cpu: 'Xeon',
        board: 'board-1',
        disks: ['disk-1'],
        nics: ['52:54:00:00:00:01'],
        ...over,
      }),
    );
  const env = () => ({ ...clock.env(), VOLACT_STATE_DIR: join(tmp.path, 'pc'), VOLACT_FINGERPRINT_FILE: fpFile() });
  const slmgr = (...args: string[]) => volact(['slmgr', '--json', ...args], env());

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 5, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    writeFp();
  });

  after(async () => {
    await authority?.stop();
    tmp.cleanup();
  });

  it('activates permanently, survives a disk replacement, and asks again (counting) after a new board', async () => {
    const issued = await volact(
      ['authority', 'issue-mak', '--dir', world.dir, '--edition', 'desk-enterprise', '--activations', '2', '--json'],
      clock.env(),
    );
    assert.equal(issued.code, 0, issued.stderr);
    const mak = issued.json.key as string;
    const trusted = await volact(
      ['client', 'trust', world.rootPub, '--authority', `http://127.0.0.1:${authority.port}`, '--json'],
      env(),
    );
    assert.equal(trusted.code, 0, trusted.stdout + trusted.stderr);
    assert.equal(typeof trusted.json.catalog.serial, 'number', 'the signed catalog is fetched with the authority URL');
    assert.equal((await slmgr('-ipk', mak)).code, 0);
    const named = await slmgr('-dlv');
    assert.equal(named.json.licenseState, 'initialGrace');
    assert.deepEqual(
      [named.json.edition.code, named.json.edition.name],
      ['desk-enterprise', 'Contoso Desk 2026 Enterprise'],
      'named before activation, from the verified catalog',
    );
    const ato = await slmgr('-ato');
    assert.equal(ato.code, 0, ato.stdout + ato.stderr);
    assert.deepEqual([ato.json.outcome, ato.json.activationsLeft], ['makActivated', 1]);
    const dlv = await slmgr('-dlv');
    assert.equal(dlv.json.channel, 'VOLUME_MAK');
    assert.equal(dlv.json.licenseState, 'licensed');
    assert.equal(dlv.json.endsAt, null);
    assert.equal(dlv.json.mak.activationsLeft, 1);
    assert.equal((await slmgr('-xpr')).json.endsAt, null);

    writeFp({ disks: ['disk-2'] });
    clock.advance(400 * DAY);
    assert.equal(
      (await slmgr('-dli')).json.licenseState,
      'licensed',
      'one disk replaced: the same machine, still permanent',
    );

    writeFp({ disks: ['disk-2'], board: 'board-2', cpu: 'Epyc' });
    const oot = await slmgr('-dli');
    assert.equal(oot.json.licenseState, 'ootGrace');
    assert.equal(Date.parse(oot.json.endsAt), clock.t + 30 * DAY);
    const again = await slmgr('-ato');
    assert.equal(again.code, 0, again.stdout);
    assert.equal(again.json.activationsLeft, 0, 'the reactivation after a change beyond tolerance counted');
    assert.equal((await slmgr('-dli')).json.licenseState, 'licensed');
    const repeat = await slmgr('-ato');
    assert.equal(repeat.json.activationsLeft, 0, 'reactivating unchanged hardware is free');

    const listed = await volact(['authority', 'maks', '--dir', world.dir, '--json'], clock.env());
    const row = listed.json[0];
    assert.deepEqual(
      [row.activationsUsed, row.activationsLimit, row.activationsLeft],
      [2, 2, 0],
      'numbers, as -ato --json gives them',
    );
    assert.ok(!JSON.stringify(listed.json).includes(mak), 'listings never show a whole MAK');
    const human = await volact(['authority', 'maks', '--dir', world.dir], clock.env());
    assert.match(
      human.stdout,
      new RegExp(`^${row.id}\\s+\\*{5}-\\*{5}-\\*{5}-\\*{5}-${mak.slice(-5)}\\s+\\d+\\s+2/2\\s+0\\s`, 'm'),
      'the table keeps used/limit',
    );
  });

  it('refuses a second machine once the MAK is used up, with the count in the error', async () => {
    const mak = (
      await volact(
        ['authority', 'issue-mak', '--dir', world.dir, '--edition', 'desk-pro', '--activations', '1', '--json'],
        clock.env(),
      )
    ).json.key as string;
    const run = (n: number, ...args: string[]) =>
      volact(['slmgr', '--json', '--state', join(tmp.path, `m${n}`), ...args], {
        ...clock.env(),
        VOLACT_FINGERPRINT_FILE: fpFile(),
        VOLACT_AUTHORITY_URL: `http://127.0.0.1:${authority.port}`,
      });
    for (const n of [1, 2]) {
      await volact(['client', 'trust', world.rootPub, '--state', join(tmp.path, `m${n}`)]);
      await run(n, '-ipk', mak);
    }
    writeFp({ osId: 'os-m1' });
    assert.equal((await run(1, '-ato')).code, 0);
    writeFp({ osId: 'os-m2' });
    const second = await run(2, '-ato');
    assert.equal(second.code, 8);
    assert.equal(second.json.error.code, 'MAK_LIMIT');
    assert.equal(second.json.error.message, 'this MAK has used 1 of its 1 activations');
    assert.equal((await run(2, '-dli')).json.licenseState, 'initialGrace');

    // the customer asks for more; the publisher approves; the second machine activates
    const authorityUrl = `http://127.0.0.1:${authority.port}`;
    const bad = await volact([
      'client',
      'request-increase',
      '--authority',
      authorityUrl,
      '--key',
      mak,
      '--count',
      'many',
      '--reason',
      'x',
      '--json',
    ]);
    assert.equal(bad.code, 2);
    assert.equal(bad.json.error.code, 'BAD_REQUEST');
    const filed = await volact([
      'client',
      'request-increase',
      '--authority',
      authorityUrl,
      '--key',
      mak,
      '--count',
      '2',
      '--reason',
      'a second office',
      '--json',
    ]);
    assert.equal(filed.code, 0, filed.stdout + filed.stderr);
    const pending = await volact(
      ['authority', 'requests', '--dir', world.dir, '--state', 'pending', '--json'],
      clock.env(),
    );
    assert.deepEqual(
      pending.json.map((r: { id: string }) => r.id),
      [filed.json.id],
    );
    const approved = await volact(
      ['authority', 'approve', filed.json.id, '--dir', world.dir, '--amount', '1', '--json'],
      clock.env(),
    );
    assert.equal(approved.code, 0, approved.stderr);
    const status = await volact([
      'client',
      'request-status',
      '--authority',
      authorityUrl,
      '--key',
      mak,
      '--id',
      filed.json.id,
      '--json',
    ]);
    assert.equal(status.json.state, 'approved');
    assert.equal(status.json.granted, 1);
    assert.deepEqual(
      status.json.steps.map((st: { step: string }) => st.step),
      ['requested', 'approved'],
    );
    const twice = await volact(['authority', 'reject', filed.json.id, '--dir', world.dir, '--json'], clock.env());
    assert.equal(twice.json.error.code, 'REQUEST_DECIDED');
    writeFp({ osId: 'os-m2' });
    assert.equal((await run(2, '-ato')).code, 0, 'the limit rose at once');
  });
});
