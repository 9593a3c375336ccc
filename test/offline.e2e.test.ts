import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestClockFile, tempDir, volact, type CliResult } from './harness/cli.js';
import { pool, post } from './harness/machines.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

/** The CLI's own QR renderer, from its build (test/dist → packages/cli/dist). */
const { qrText } = (await import(new URL('../../packages/cli/dist/qr.js', import.meta.url).href)) as {
  qrText: (code: string) => string;
};

/**
 * Offline ("phone") activation through the CLI: installation IDs, confirmation IDs, the offline
 * bundle, an air-gapped host, and proxy activation of a whole file of machines.
 */
describe('offline activation', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-offline-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let bundle: string;
  const auth = (...args: string[]) => volact(['authority', ...args, '--dir', world.dir, '--json'], clock.env());

  /** A client machine with its own state directory and fingerprint file. */
  const machine = (name: string, fp: Record<string, unknown> = {}) => {
    const dir = join(tmp.path, name);
    const fpFile = join(tmp.path, `${name}.fp.json`);
    const setFp = (over: Record<string, unknown> = {}) =>
      writeFileSync(
        fpFile,
        JSON.stringify({
          osId: `os-${name}`,
          cpu: 'Xeon',
          board: `board-${name}`,
          disks: [`disk-${name}`],
          nics: [`nic-${name}`],
          ...fp,
          ...over,
        }),
      );
    setFp();
    const slmgr = (...args: string[]) =>
      volact(['slmgr', '--json', '--state', dir, ...args], { ...clock.env(), VOLACT_FINGERPRINT_FILE: fpFile });
    const trust = (file: string) => volact(['client', 'trust', file, '--state', dir, '--json'], clock.env());
    return { dir, setFp, slmgr, trust };
  };
  const mustOk = (r: CliResult, what: string) => assert.equal(r.code, 0, `${what}: ${r.stdout}${r.stderr}`);
  const issueMak = async (activations: number, edition = 'desk-pro') => {
    const r = await auth('issue-mak', '--edition', edition, '--activations', String(activations));
    mustOk(r, 'issue-mak');
    return r.json as { key: string; id: string };
  };
  /** "used/limit" of a MAK, from the numbers `authority maks --json` gives. */
  const makUsage = async (id: string) => {
    const row = ((await auth('maks')).json as { id: string; activationsUsed: number; activationsLimit: number }[]).find(
      (m) => m.id === id,
    )!;
    return `${row.activationsUsed}/${row.activationsLimit}`;
  };

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 20, 9));
    world = await makeAuthority(tmp.path, clock.env());
    bundle = join(tmp.path, 'volact-offline.json');
    mustOk(await auth('offline-bundle', '--out', bundle), 'offline-bundle');
  });

  after(() => tmp.cleanup());

  it('activates a MAK machine with typed codes; the same installation ID twice uses one activation', async () => {
    const mak = await issueMak(3);
    const pc = machine('pc1');
    mustOk(await pc.trust(bundle), 'trust bundle');
    mustOk(await pc.slmgr('-ipk', mak.key), 'ipk');
    const before = await pc.slmgr('-dlv');
    assert.deepEqual(
      before.json.edition,
      { number: 101, code: 'desk-pro', name: 'Contoso Desk 2026 Pro' },
      'before activation, the names come from the bundle catalog',
    );
    const dti = await pc.slmgr('-dti');
    mustOk(dti, '-dti');
    const iid = dti.json.installationId as string;
    assert.match(iid, /^([2-9A-Y]{8}-)+[2-9A-Y]{2,8}$/);
    // the same ID as a QR code for a phone to read, drawn for exactly this ID
    const shown = await volact(['slmgr', '--state', pc.dir, '-dti'], {
      ...clock.env(),
      VOLACT_QR: '1',
      VOLACT_FINGERPRINT_FILE: join(tmp.path, 'pc1.fp.json'),
    });
    assert.ok(shown.stdout.includes(iid));
    assert.ok(shown.stdout.includes(qrText(iid)), 'the QR code encodes the installation ID');
    // where to take it: the authority console's offline page, at the configured authority when there is one
    assert.ok(shown.stdout.includes("the publisher's offline activation page: https://AUTHORITY/console/#/offline"));
    const named = await volact(['slmgr', '--state', pc.dir, '-dti', '--lang', 'ja'], {
      ...clock.env(),
      VOLACT_AUTHORITY_URL: 'https://activation.contoso.example/',
      VOLACT_FINGERPRINT_FILE: join(tmp.path, 'pc1.fp.json'),
    });
    assert.ok(
      named.stdout.includes('オフライン ライセンス認証ページ: https://activation.contoso.example/console/#/offline'),
    );
    assert.notEqual(qrText(iid), qrText(iid.replace(/^./, iid[0] === '2' ? '3' : '2')));
    const compactKey = mak.key.replace(/-/g, '');
    assert.ok(!iid.replace(/-/g, '').includes(compactKey.slice(0, 8)), 'the installation ID does not carry the key');

    const first = await auth('confirm', iid);
    mustOk(first, 'confirm');
    assert.deepEqual([first.json.type, first.json.outcome, first.json.used], ['mak', 'activated', 1]);
    const second = await auth('confirm', iid);
    assert.deepEqual([second.json.outcome, second.json.used], ['repeat', 1], 'asked twice: one activation');
    // into a log or a pipe the confirmation comes without its QR code; VOLACT_QR=1 draws it anyway
    const cidText = second.json.confirmationId as string;
    const piped = await volact(['authority', 'confirm', iid, '--dir', world.dir], clock.env());
    mustOk(piped, 'confirm into a pipe');
    assert.ok(piped.stdout.includes(cidText));
    assert.ok(
      !piped.stdout.includes(qrText(cidText)) && !piped.stdout.includes('\u001b['),
      'no QR code and no escape codes in a pipe',
    );
    const drawn = await volact(['authority', 'confirm', iid, '--dir', world.dir], { ...clock.env(), VOLACT_QR: '1' });
    assert.ok(drawn.stdout.includes(qrText(cidText)), 'VOLACT_QR=1 draws the QR code of the confirmation ID');
    assert.equal(await makUsage(mak.id), '1/3');

    // the operator types it with spaces instead of hyphens: still fine
    const atp = await pc.slmgr('-atp', ...(second.json.confirmationId as string).split('-'));
    mustOk(atp, '-atp');
    const dlv = await pc.slmgr('-dlv');
    assert.equal(dlv.json.licenseState, 'licensed');
    assert.equal(dlv.json.endsAt, null, 'permanent');
    assert.match(dlv.json.mak.authority, /offline/);
    assert.equal(dlv.json.edition.code, 'desk-pro', 'edition names come from the bundle catalog');
    assert.equal(dlv.json.mak.id, mak.id, 'the machine names the MAK as the authority does');
    assert.equal(first.json.keyId, mak.id);
    assert.match(
      (
        await volact(['slmgr', '--state', pc.dir, '-dlv'], {
          ...clock.env(),
          VOLACT_FINGERPRINT_FILE: join(tmp.path, 'pc1.fp.json'),
        })
      ).stdout,
      new RegExp(`MAK ${mak.id}\\b`),
    );

    // a repair (one disk) keeps it; a new board puts the machine into out-of-tolerance grace
    pc.setFp({ disks: ['disk-new'] });
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'licensed');
    pc.setFp({ disks: ['disk-new'], board: 'board-other', cpu: 'Epyc' });
    const oot = await pc.slmgr('-dli');
    assert.equal(oot.json.licenseState, 'ootGrace');
    assert.match(oot.json.reason, /-dti, then -atp/, 'the fix for an offline machine is offline too');
    // the changed machine has a new installation ID; confirming it counts (beyond tolerance)
    const changed = await pc.slmgr('-dti');
    assert.notEqual(changed.json.installationId, iid);
    const reconfirmed = await auth('confirm', changed.json.installationId);
    assert.deepEqual([reconfirmed.json.outcome, reconfirmed.json.used], ['reactivated', 2]);
    mustOk(await pc.slmgr('-atp', reconfirmed.json.confirmationId), '-atp after the change');
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'licensed');
    // clearing the key text (-cpky) keeps an offline activation, as it keeps an online one
    mustOk(await pc.slmgr('-cpky'), '-cpky');
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'licensed');
  });

  it('refuses a confirmation with a typo (naming its group), for another installation ID, or from another publisher', async () => {
    const mak = await issueMak(5);
    const a = machine('typo-a');
    const b = machine('typo-b');
    for (const m of [a, b]) {
      mustOk(await m.trust(bundle), 'trust');
      mustOk(await m.slmgr('-ipk', mak.key), 'ipk');
    }
    const cidA = (await auth('confirm', (await a.slmgr('-dti')).json.installationId)).json.confirmationId as string;

    const groups = cidA.split('-');
    const wrong = groups[5]![2] === '2' ? '3' : '2';
    groups[5] = groups[5]!.slice(0, 2) + wrong + groups[5]!.slice(3);
    const typo = await a.slmgr('-atp', groups.join('-'));
    assert.equal(typo.code, 2);
    assert.equal(typo.json.error.code, 'CODE_GROUP_TYPO');
    assert.equal(typo.json.error.params.group, 6);
    assert.match(typo.json.error.message, /group 6/);

    const foreign = await b.slmgr('-atp', cidA);
    assert.equal(foreign.code, 7);
    assert.equal(foreign.json.error.code, 'CONFIRMATION_MISMATCH');
    assert.equal((await b.slmgr('-dli')).json.licenseState, 'initialGrace', 'nothing was stored');

    // a second publisher with its own root and the same kind of codes
    const other = await makeAuthority(join(tmp.path, 'other-publisher'), clock.env());
    const otherMak = (
      await volact(
        ['authority', 'issue-mak', '--dir', other.dir, '--edition', 'desk-pro', '--activations', '5', '--json'],
        clock.env(),
      )
    ).json.key as string;
    const c = machine('typo-c');
    mustOk(await c.trust(bundle), 'trust');
    mustOk(await c.slmgr('-ipk', otherMak), 'ipk');
    const otherCid = await volact(
      ['authority', 'confirm', (await c.slmgr('-dti')).json.installationId, '--dir', other.dir, '--json'],
      clock.env(),
    );
    mustOk(otherCid, 'the other publisher confirms its own key');
    const untrusted = await c.slmgr('-atp', otherCid.json.confirmationId);
    assert.equal(untrusted.code, 7);
    assert.equal(untrusted.json.error.code, 'CONFIRMATION_UNTRUSTED');
    // and our authority refuses its installation IDs: the key is not ours
    const refused = await auth('confirm', (await c.slmgr('-dti')).json.installationId);
    assert.notEqual(refused.code, 0);
    assert.ok(['KEY_UNKNOWN', 'INSTALLATION_ID_INVALID'].includes(refused.json.error.code), refused.stdout);

    const noBundle = machine('no-bundle');
    mustOk(await noBundle.trust(world.rootPub), 'trust root only');
    mustOk(await noBundle.slmgr('-ipk', mak.key), 'ipk');
    const missing = await noBundle.slmgr('-atp', cidA);
    assert.equal(missing.json.error.code, 'OFFLINE_BUNDLE_MISSING');
    assert.match(missing.json.error.fix, /client trust/);
  });

  it("forged installation IDs under a victim key do not use up that key's rate limit", async () => {
    clock.advance(5 * 60_000); // fresh rate windows
    const service = await world.serve({}, ['--rate-per-key', '2', '--rate-per-address', '200']);
    try {
      const mak = await issueMak(5);
      const pc = machine('victim');
      mustOk(await pc.trust(bundle), 'trust');
      mustOk(await pc.slmgr('-ipk', mak.key), 'ipk');
      const iid = (await pc.slmgr('-dti')).json.installationId as string;
      // an attacker knows the key ID (it is in every IID) but not the key: the MAC group is guessed
      const groups = iid.split('-');
      const forge = (n: number) => {
        const g = [...groups];
        const chars = g[2]!.slice(0, 7).split('');
        chars[n % 7] = chars[n % 7] === '2' ? '3' : '2';
        // recompute nothing: a wrong character with the right check is what a forger must make
        g[2] = chars.join('');
        return g;
      };
      for (let n = 0; n < 4; n++) {
        const g = forge(n);
        // give the forged group a correct check character, so it reaches the MAC check
        for (const c of '23456789ACDEFGHJKLMNPQRTUVWXY') {
          const text = [...g.slice(0, 2), g[2]! + c, ...g.slice(3)].join('-');
          const r = await post(
            service.port,
            '/v1/offline-confirmations',
            JSON.stringify({ v: 1, installationId: text }),
          );
          if (r.body.code === 'CODE_GROUP_TYPO') continue;
          assert.deepEqual([r.status, r.body.code], [400, 'INSTALLATION_ID_INVALID']);
          break;
        }
      }
      const real = await post(service.port, '/v1/offline-confirmations', JSON.stringify({ v: 1, installationId: iid }));
      assert.equal(real.status, 200, 'the holder is not locked out by forgeries');
      assert.equal(
        (await post(service.port, '/v1/offline-confirmations', JSON.stringify({ v: 1, installationId: iid }))).status,
        200,
      );
      assert.equal(
        (await post(service.port, '/v1/offline-confirmations', JSON.stringify({ v: 1, installationId: iid }))).body
          .code,
        'RATE_LIMITED',
        'proven holders are limited per key',
      );
    } finally {
      await service.stop();
    }
  });

  it('an installation ID with a typo or a forged check is refused by the authority, with nothing counted', async () => {
    const mak = await issueMak(2);
    const pc = machine('forge');
    mustOk(await pc.trust(bundle), 'trust');
    mustOk(await pc.slmgr('-ipk', mak.key), 'ipk');
    const iid = (await pc.slmgr('-dti')).json.installationId as string;
    const groups = iid.split('-');
    // one character changed: always caught by the group's check character
    groups[2] = groups[2]!.slice(0, 4) + (groups[2]![4] === 'X' ? 'Y' : 'X') + groups[2]!.slice(5);
    const typo = await auth('confirm', groups.join('-'));
    assert.equal(typo.json.error.code, 'CODE_GROUP_TYPO');
    assert.equal(typo.json.error.params.group, 3);
    assert.equal(await makUsage(mak.id), '0/2');
  });

  it('answers CLI mistakes around offline codes with stable codes and changes nothing', async () => {
    const pc = machine('cli-mistakes');
    mustOk(await pc.trust(bundle), 'trust');
    assert.equal((await pc.slmgr('-dti')).json.error.code, 'KEY_NOT_INSTALLED');
    mustOk(await pc.slmgr('-ipk', world.setupKeys['desk-pro']!), 'ipk setup key');
    const setup = await pc.slmgr('-dti');
    assert.deepEqual([setup.code, setup.json.error.code], [3, 'KEY_WRONG_CLASS']);
    assert.equal((await pc.slmgr('-atp')).json.error.code, 'USAGE');
    for (const [typed, expected] of [
      ['O' + '2'.repeat(86), 'CODE_BAD_CHARACTER'],
      ['hello', 'CODE_MALFORMED'],
      ['2222', 'CODE_MALFORMED'],
      ['x'.repeat(5000), 'CODE_MALFORMED'],
    ] as const) {
      assert.equal((await auth('confirm', typed)).json.error.code, expected, typed.slice(0, 10));
    }
    assert.equal((await auth('confirm')).json.error.code, 'USAGE');
    assert.equal(
      (await auth('confirm', '--in', join(tmp.path, 'missing.txt'), '--out', join(tmp.path, 'o.txt'))).json.error.code,
      'USAGE',
    );
    const empty = join(tmp.path, 'empty.txt');
    writeFileSync(empty, '# nothing here\n\n');
    assert.equal((await auth('confirm', '--in', empty, '--out', join(tmp.path, 'o.txt'))).json.error.code, 'USAGE');
    const garbage = join(tmp.path, 'garbage.json');
    writeFileSync(garbage, '{"v":1,"kind":"volact.offline-bundle"}');
    const bad = await pc.trust(garbage);
    assert.deepEqual([bad.code, bad.json.error.code], [2, 'USAGE']);
    assert.match(bad.json.error.message, /offline bundle is invalid/);
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'initialGrace');
  });

  it('activates an air-gapped host from the offline bundle; clients verify its certificate and activate', async () => {
    const hostKey = await world.issueHostKey('server-2026');
    const hostDir = join(tmp.path, 'airgapped-host');
    const host: Service = await startHost(hostDir, { root: bundle, authority: 'http://127.0.0.1:9', env: clock.env() });
    try {
      const hs = (...args: string[]) => volact(['slmgr', '--host', hostDir, '--json', ...args], clock.env());
      assert.equal((await hs('-dti')).json.error.code, 'KEY_NOT_INSTALLED');
      mustOk(await hs('-ipk', hostKey), 'host -ipk');
      const garbled = await hs('-atp', '22222222-33333333');
      assert.equal(garbled.json.error.code, 'CODE_MALFORMED');
      const dti = await hs('-dti');
      mustOk(dti, 'host -dti');
      const iid = dti.json.keys[0].installationId as string;
      const first = await auth('confirm', iid);
      mustOk(first, 'confirm host');
      assert.equal(first.json.type, 'host');
      const again = await auth('confirm', iid);
      assert.equal(again.json.used, first.json.used, 'the same host IID twice uses one activation');
      const keys = (await auth('host-keys')).json as {
        hostsUsed: number;
        hostsLimit: number;
        activationsUsed: number;
        activationsLimit: number;
      }[];
      const k = keys.at(-1)!;
      assert.deepEqual([k.hostsUsed, k.hostsLimit, k.activationsUsed, k.activationsLimit], [1, 6, 1, 10]);

      // a confirmation made for a MAK machine does not activate a host
      const makCid = (
        await auth(
          'confirm',
          await (async () => {
            const m = machine('not-a-host');
            await m.trust(bundle);
            await m.slmgr('-ipk', (await issueMak(1)).key);
            return (await m.slmgr('-dti')).json.installationId as string;
          })(),
        )
      ).json.confirmationId as string;
      assert.equal((await hs('-atp', makCid)).json.error.code, 'CONFIRMATION_MISMATCH');
      assert.equal((await hs('-dlv')).json.activated, false);
      mustOk(await hs('-atp', again.json.confirmationId), 'host -atp');
      const status = await hs('-dlv');
      assert.equal(status.json.activated, true);
      assert.ok(status.json.editions.some((e: { code: string }) => e.code === 'server-standard'));

      // five server machines: the fifth is granted, each verifying the offline certificate chain
      const results = await pool([1, 2, 3, 4, 5], 2, async (n) => {
        const m = machine(`srv${n}`);
        mustOk(await m.trust(world.rootPub), 'trust');
        mustOk(await m.slmgr('-ipk', world.setupKeys['server-standard']!), 'ipk');
        mustOk(await m.slmgr('-skms', `127.0.0.1:${host.port}`), 'skms');
        return m;
      });
      for (const m of results) await m.slmgr('-ato');
      const last = await results[4]!.slmgr('-ato');
      mustOk(last, 'fifth -ato');
      for (const m of results) await m.slmgr('-ato');
      const states = await Promise.all(
        results.map(async (m) => {
          const r = await m.slmgr('-dli');
          return r.json?.licenseState ?? r.stdout + r.stderr;
        }),
      );
      assert.deepEqual(states, ['licensed', 'licensed', 'licensed', 'licensed', 'licensed']);
    } finally {
      await host.stop();
    }
  });

  it('proxy activation: a file of installation IDs becomes a file of confirmations, with a progress bar; a rerun counts nothing', async () => {
    const mak = await issueMak(10, 'desk-enterprise');
    const pcs = await pool([...Array(6).keys()], 3, async (n) => {
      const m = machine(`proxy${n}`);
      mustOk(await m.trust(bundle), 'trust');
      mustOk(await m.slmgr('-ipk', mak.key), 'ipk');
      return m;
    });
    const ids = await Promise.all(pcs.map(async (m) => (await m.slmgr('-dti')).json.installationId as string));
    const inFile = join(tmp.path, 'ids.txt');
    const outFile = join(tmp.path, 'cids.txt');
    // 'lecture2' is a label made only of code characters: still a label, not the start of a code
    writeFileSync(
      inFile,
      ['# collected from the lab', ...ids.map((id, n) => `lab-${n} ${id}`), 'broken 22222222-33333333', '']
        .join('\n')
        .replace('lab-5 ', 'lecture2 '),
    );
    const run = await volact(
      ['authority', 'confirm', '--in', inFile, '--out', outFile, '--dir', world.dir],
      clock.env(),
    );
    assert.equal(run.code, 5, 'one line failed');
    assert.match(run.stderr, /\[#{30}\] 7\/7/);
    assert.match(run.stdout, /6 confirmed, 1 failed/);
    const lines = readFileSync(outFile, 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    assert.equal(lines.length, 7);
    assert.match(lines[6]!, /^broken .* ERROR CODE_/);
    assert.equal(await makUsage(mak.id), '6/10');

    const rerun = await volact(
      ['authority', 'confirm', '--in', inFile, '--out', outFile, '--dir', world.dir, '--json'],
      clock.env(),
    );
    assert.deepEqual([rerun.json.confirmed, rerun.json.failed], [6, 1]);
    assert.equal(await makUsage(mak.id), '6/10', 'a rerun of the same file uses nothing');

    const cids = new Map(
      readFileSync(outFile, 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('lab-'))
        .map((l) => [l.split(' ')[0]!, l.split(' ')[2]!]),
    );
    cids.set(
      'lab-5',
      readFileSync(outFile, 'utf8')
        .split('\n')
        .find((l) => l.startsWith('lecture2 '))!
        .split(' ')[2]!,
    );
    for (const [n, m] of pcs.entries()) mustOk(await m.slmgr('-atp', cids.get(`lab-${n}`)!), `-atp on lab-${n}`);
    assert.deepEqual(
      await Promise.all(pcs.map(async (m) => (await m.slmgr('-dli')).json.licenseState)),
      Array(6).fill('licensed'),
    );
  });

  it('anonymous confirmations are rate-limited; a token with the issue scope confirms in bulk without that limit', async () => {
    clock.advance(5 * 60_000); // fresh rate windows: limits count per minute, shared with the tests before
    const service = await world.serve({}, ['--rate-per-address', '3']);
    const insecure = await volact(
      [
        'authority',
        'confirm',
        '22222222',
        '--url',
        'http://10.255.255.1:8180',
        '--token-file',
        join(tmp.path, 'none'),
        '--json',
      ],
      clock.env(),
    );
    assert.deepEqual([insecure.code, insecure.json.error.code], [2, 'USAGE'], 'no token file');
    writeFileSync(join(tmp.path, 'some.token'), 'vat_x');
    const clear = await volact(
      [
        'authority',
        'confirm',
        '22222222',
        '--url',
        'http://10.255.255.1:8180',
        '--token-file',
        join(tmp.path, 'some.token'),
        '--json',
      ],
      clock.env(),
    );
    assert.deepEqual(
      [clear.code, clear.json.error.code],
      [2, 'INSECURE_URL'],
      'a token is never sent in clear off this machine',
    );
    try {
      const mak = await issueMak(50);
      const pcs = await pool([...Array(8).keys()], 4, async (n) => {
        const m = machine(`api${n}`);
        mustOk(await m.trust(bundle), 'trust');
        mustOk(await m.slmgr('-ipk', mak.key), 'ipk');
        return m;
      });
      const ids = await Promise.all(pcs.map(async (m) => (await m.slmgr('-dti')).json.installationId as string));
      const statuses: number[] = [];
      for (const id of ids.slice(0, 4))
        statuses.push(
          (await post(service.port, '/v1/offline-confirmations', JSON.stringify({ v: 1, installationId: id }))).status,
        );
      assert.deepEqual(statuses, [200, 200, 200, 429]);

      const token = await auth('token', 'create', '--name', 'proxy', '--scope', 'issue');
      mustOk(token, 'token create');
      const tokenFile = join(tmp.path, 'proxy.token');
      writeFileSync(tokenFile, token.json.token, { mode: 0o600 });
      const inFile = join(tmp.path, 'api-ids.txt');
      writeFileSync(inFile, ids.join('\n'));
      const outFile = join(tmp.path, 'api-cids.txt');
      const remote = await volact(
        [
          'authority',
          'confirm',
          '--in',
          inFile,
          '--out',
          outFile,
          '--url',
          `http://127.0.0.1:${service.port}`,
          '--token-file',
          tokenFile,
          '--json',
        ],
        clock.env(),
      );
      mustOk(remote, 'remote bulk confirm');
      assert.deepEqual([remote.json.confirmed, remote.json.failed], [8, 0]);
      assert.equal(await makUsage(mak.id), '8/50', 'the three anonymous confirmations were repeats');
      const audit = (await auth('audit', '--limit', '20')).json as { actor: string; action: string }[];
      assert.ok(
        audit.filter((a) => a.actor === `token:${token.json.id}` && a.action === 'mak.activate').length === 8,
        'each authenticated confirmation is audited',
      );

      const readOnly = await auth('token', 'create', '--name', 'viewer', '--scope', 'read');
      writeFileSync(tokenFile, readOnly.json.token);
      const denied = await volact(
        [
          'authority',
          'confirm',
          ids[0]!,
          '--url',
          `http://127.0.0.1:${service.port}`,
          '--token-file',
          tokenFile,
          '--json',
        ],
        clock.env(),
      );
      assert.equal(denied.json.error.code, 'TOKEN_SCOPE');
    } finally {
      await service.stop();
    }
  });
});
