import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { makeMachine, pool } from './harness/machines.js';
import type { Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const sample = new URL('../../packages/authority/sample-catalog.json', import.meta.url).pathname;

/**
 * Issue 13, part 6: a host learns the editions a newer catalog adds to its product group with
 * slmgr -upd-catalog (online from the authority, or offline from a signed file) without spending
 * one of its host key's activations, and clients verify grants for them with that catalog.
 */
describe('catalog updates on hosts', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-catalog-');
  let clock: TestClockFile;
  let env: Record<string, string>;
  let world: AuthorityWorld;
  let forger: AuthorityWorld;
  let url: string;
  const services: Service[] = [];
  const hostA = join(tmp.path, 'host-a');
  const hostB = join(tmp.path, 'host-b');
  let hostAPort = 0;
  const v1 = join(tmp.path, 'catalog-v1.json');
  const v2 = join(tmp.path, 'catalog-v2.json');
  let azureKey = '';

  const must = async (args: string[]) => {
    const r = await volact(args, env);
    assert.equal(r.code, 0, `volact ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };
  const slmgrHost = (dir: string, ...args: string[]) => volact(['slmgr', '--host', dir, ...args, '--json'], env);
  const editionsOf = async (dir: string) =>
    ((await must(['slmgr', '--host', dir, '-dlv', '--json'])).json.editions as { code: string }[]).map((e) => e.code);
  const activationsUsed = async () =>
    ((await must(['authority', 'host-keys', '--dir', world.dir, '--json'])).json as { activationsUsed: number }[]).map(
      (k) => k.activationsUsed,
    );

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 11, 5, 9));
    env = clock.env();
    world = await makeAuthority(join(tmp.path, 'a'), env);
    forger = await makeAuthority(join(tmp.path, 'f'), env);
    const authority = await world.serve();
    services.push(authority);
    url = `http://127.0.0.1:${authority.port}`;
    for (const dir of [hostA, hostB]) {
      const host = await startHost(dir, { root: world.rootPub, authority: url, env });
      services.push(host);
      if (dir === hostA) hostAPort = host.port;
      await must(['slmgr', '--host', dir, '-ipk', await world.issueHostKey('server-2026')]);
      await must(['slmgr', '--host', dir, '-ato', '--json']);
    }
    // catalog v1 as the hosts got it, then v2: the publisher adds an edition to the server group
    await must(['authority', 'catalog', '--dir', world.dir, '--export', v1, '--json']);
    await must(['authority', 'catalog', '--dir', forger.dir, '--export', join(tmp.path, 'forged.json'), '--json']);
    const file = JSON.parse(readFileSync(sample, 'utf8')) as {
      products: { editions: object[] }[];
      groups: { code: string; editions: string[] }[];
    };
    file.products[1]!.editions.push({
      number: 204,
      code: 'server-azure',
      name: 'Contoso Server 2026 Azure',
      kind: 'server',
    });
    file.groups.find((g) => g.code === 'server-2026')!.editions.push('server-azure');
    writeFileSync(join(tmp.path, 'catalog-file-v2.json'), JSON.stringify(file));
    const imported = await must([
      'authority',
      'import-catalog',
      '--dir',
      world.dir,
      join(tmp.path, 'catalog-file-v2.json'),
      '--json',
    ]);
    assert.equal(imported.json.serial, 2);
    azureKey = (imported.json.editions as { code: string; setupKey: string }[]).find(
      (e) => e.code === 'server-azure',
    )!.setupKey;
    await must(['authority', 'catalog', '--dir', world.dir, '--export', v2, '--json']);
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    tmp.cleanup();
  });

  it('takes the newer catalog online without spending an activation, and clients verify grants for the edition it adds', async () => {
    const usedBefore = await activationsUsed();
    assert.deepEqual(usedBefore, [1, 1]);
    assert.ok(!(await editionsOf(hostA)).includes('server-azure'));

    const upd = await slmgrHost(hostA, '-upd-catalog');
    assert.equal(upd.code, 0, upd.stdout + upd.stderr);
    assert.deepEqual(upd.json, { outcome: 'updated', serial: 2, previous: 1, added: ['server-azure'] });
    assert.ok((await editionsOf(hostA)).includes('server-azure'), 'the host -dlv lists the new edition');
    assert.deepEqual(await activationsUsed(), usedBefore, 'no activation was spent');

    const again = await volact(['slmgr', '--host', hostA, '-upd-catalog'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /already current \(serial 2\)/);

    const machines = await pool(
      Array.from({ length: 5 }, (_, i) => i),
      4,
      (i) =>
        makeMachine(tmp.path, `azure-${i}`, {
          root: world.rootPub,
          key: azureKey,
          host: `127.0.0.1:${hostAPort}`,
          env,
        }),
    );
    for (let i = 0; i < 4; i++) assert.equal((await machines[i]!.run(['-ato'])).json.code, 'COUNT_INSUFFICIENT');
    const granted = await machines[4]!.run(['-ato']);
    assert.equal(granted.code, 0, granted.stdout + granted.stderr);
    assert.equal(granted.json.outcome, 'activated');
    const dli = await machines[4]!.run(['-dli']);
    assert.equal(dli.json.licenseState, 'licensed', 'the stored license re-verifies with its catalog on every read');
    assert.equal(dli.json.edition.code, 'server-azure', 'named from the catalog stored with the license');
    const license = JSON.parse(readFileSync(join(machines[4]!.dir, 'license.json'), 'utf8')) as {
      bundle: { catalog?: string };
    };
    assert.ok(license.bundle.catalog, 'the catalog is stored with the license');
  });

  it("refuses an older catalog, another publisher's and a tampered one, and changes nothing", async () => {
    const before = await editionsOf(hostA);
    const older = await slmgrHost(hostA, '-upd-catalog', v1);
    assert.equal(older.code, 5, older.stdout + older.stderr);
    assert.equal(older.json.error.code, 'CATALOG_OLDER');
    assert.match(older.json.error.message, /serial 1, older than serial 2/);

    const foreign = await slmgrHost(hostA, '-upd-catalog', join(tmp.path, 'forged.json'));
    assert.equal(foreign.json?.error?.code, 'CHAIN_UNTRUSTED_ROOT', foreign.stdout + foreign.stderr);

    const signed = JSON.parse(readFileSync(v2, 'utf8')) as { catalog: string; issuer: string };
    const [h, p, s] = signed.catalog.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as { serial: number };
    payload.serial = 3;
    const tampered = join(tmp.path, 'tampered.json');
    writeFileSync(
      tampered,
      JSON.stringify({ ...signed, catalog: `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}` }),
    );
    const bad = await slmgrHost(hostA, '-upd-catalog', tampered);
    assert.equal(bad.json?.error?.code, 'SIGNATURE_INVALID', bad.stdout + bad.stderr);

    assert.deepEqual(await editionsOf(hostA), before);
    const current = await slmgrHost(hostA, '-upd-catalog', v2);
    assert.equal(current.json.outcome, 'current', 'serial 2 is still the one in force');
  });

  it("takes the catalog offline from the publisher's offline bundle", async () => {
    const bundle = join(tmp.path, 'volact-offline.json');
    await must(['authority', 'offline-bundle', '--dir', world.dir, '--out', bundle, '--json']);
    const used = await activationsUsed();
    const upd = await slmgrHost(hostB, '-upd-catalog', bundle);
    assert.equal(upd.code, 0, upd.stdout + upd.stderr);
    assert.deepEqual(upd.json.added, ['server-azure']);
    assert.ok((await editionsOf(hostB)).includes('server-azure'));
    assert.deepEqual(await activationsUsed(), used);
  });
});
