import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CLI, TestClockFile, tempDir, volact } from './harness/cli.js';
import type { Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

const DAY = 86_400_000;
const EXAMPLE = new URL('../../examples/check-license/index.mjs', import.meta.url).pathname;
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];
const isRoot = process.getuid?.() === 0;

/** Runs the example app (as nobody when asked) and returns its exit code, message and readLicense value. */
function checkLicense(env: Record<string, string>, asNobody = false) {
  const args = [EXAMPLE, env.VOLACT_STATE_DIR ?? ''];
  const argv = asNobody ? [...NOBODY, process.execPath, ...args] : args;
  const r = spawnSync(asNobody ? 'setpriv' : process.execPath, argv, {
    env: { ...process.env, NODE_ENV: 'test', CHECK_LICENSE_JSON: '1', CHECK_LICENSE_TEST_ENV: '1', ...env },
    encoding: 'utf8',
  });
  const [message = '', json = 'null'] = r.stdout.trim().split('\n');
  return { code: r.status, message, status: JSON.parse(json), stderr: r.stderr };
}

/**
 * Lets nobody traverse to `path` for the length of `fn`: a checkout in a 0700 directory (mktemp -d,
 * as CI makes) would keep it from the example and the CLI. Only the search bit (o+x) of the
 * directories above that lack it is added, and every mode is put back afterwards.
 */
async function traversable<T>(path: string, fn: () => Promise<T> | T): Promise<T> {
  const changed: [string, number][] = [];
  for (let d = dirname(path); ; d = dirname(d)) {
    const mode = statSync(d).mode & 0o7777;
    if (!(mode & 0o001)) {
      changed.push([d, mode]);
      chmodSync(d, mode | 0o001);
    }
    if (d === dirname(d)) break;
  }
  try {
    return await fn();
  } finally {
    for (const [d, mode] of changed) chmodSync(d, mode);
  }
}

/** Every file in a directory with its mode, mtime and contents: what "nothing changed" compares. */
function snapshot(dir: string) {
  return readdirSync(dir)
    .sort()
    .map((f) => {
      const st = statSync(join(dir, f));
      return { f, mode: st.mode, mtime: st.mtimeMs, text: readFileSync(join(dir, f), 'utf8') };
    });
}

/**
 * `slmgr -dli --json` as a stable contract for products not written in JavaScript
 * (docs/embedding.md): every field and its JSON types. A rename, a removal or a type change fails here.
 */
const DLI_CONTRACT: Record<string, string[]> = {
  channel: ['string', 'null'],
  partialKey: ['string', 'null'],
  edition: ['object', 'null'],
  licenseState: ['string'],
  reason: ['string'],
  endsAt: ['string', 'null'],
  machineId: ['string', 'null'],
  identity: ['string', 'null'],
  activatedBy: ['object', 'null'],
  validUntil: ['string', 'null'],
  pinnedHost: ['string', 'null'],
  discoveredHost: ['string', 'null'],
  lookupDomain: ['string', 'null'],
  lookupDomains: ['array'],
  dnsServer: ['string', 'null'],
  dnsServerFrom: ['string', 'null'],
  hostCaching: ['boolean'],
  pinnedPort: ['number', 'null'],
  renewalMinutes: ['number'],
  retryMinutes: ['number'],
  lastAnswer: ['object', 'null'],
  mak: ['object', 'null'],
  authorityUrl: ['string', 'null'],
  activationType: ['string'],
  directory: ['object', 'null'],
  vm: ['object', 'null'],
  vmAgent: ['object', 'null'],
  rearmsLeft: ['number'],
  trustedTime: ['string'],
};
const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

function assertDliContract(dli: Record<string, unknown>, state: string): void {
  assert.deepEqual(Object.keys(dli).sort(), Object.keys(DLI_CONTRACT).sort(), `-dli --json fields (${state})`);
  for (const [field, types] of Object.entries(DLI_CONTRACT))
    assert.ok(types.includes(jsonType(dli[field])), `${field} is ${jsonType(dli[field])} (${state})`);
  assert.equal(dli.licenseState, state);
  if (dli.edition !== null) {
    const e = dli.edition as Record<string, unknown>;
    assert.deepEqual(Object.keys(e).sort(), ['code', 'name', 'number']);
    assert.equal(typeof e.number, 'number');
  }
}

describe('embedding: readLicense, the example app and -dli --json', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-embed-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service;
  const dir = (name: string) => join(tmp.path, name);
  const fp = (name: string, over: Record<string, unknown> = {}) => {
    const file = join(tmp.path, `${name}.fp.json`);
    const base = { osId: 'os-embed-1', cpu: 'Xeon', board: 'board-1', disks: ['disk-1'], nics: ['52:54:00:00:00:01'] };
    writeFileSync(file, JSON.stringify({ ...base, ...over }));
    return file;
  };
  const env = (name: string, fpFile = fp('same')) => ({
    ...clock.env(),
    VOLACT_STATE_DIR: dir(name),
    VOLACT_FINGERPRINT_FILE: fpFile,
  });
  const must = async (args: string[], e: Record<string, string>) => {
    const r = await volact(args, e);
    assert.equal(r.code, 0, `volact ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };

  before(async () => {
    chmodSync(tmp.path, 0o755); // nobody walks to the state directories, as to /var/lib/volact/client
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 6, 9));
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    const authorityUrl = `http://127.0.0.1:${authority.port}`;
    const mak = (
      await must(
        ['authority', 'issue-mak', '--dir', world.dir, '--edition', 'desk-pro', '--activations', '3', '--json'],
        clock.env(),
      )
    ).json.key as string;
    // installed 40 days ago and never activated: the 30 days of initial grace are over
    const past = new TestClockFile(join(tmp.path, 'past-clock'), clock.t - 40 * DAY);
    for (const name of ['grace', 'unlicensed', 'licensed', 'notification'])
      await must(['client', 'trust', world.rootPub, '--authority', authorityUrl], {
        ...env(name),
        ...(name === 'notification' ? past.env() : {}),
      });
    await must(['slmgr', '-ipk', world.setupKeys['desk-pro']!], env('grace'));
    await must(['slmgr', '-ipk', world.setupKeys['desk-pro']!], env('unlicensed'));
    await must(['slmgr', '-upk'], env('unlicensed'));
    await must(['slmgr', '-ipk', mak], env('licensed'));
    await must(['slmgr', '-ato'], env('licensed'));
    await must(['slmgr', '-ipk', world.setupKeys['desk-pro']!], { ...env('notification'), ...past.env() });
    // the MAK-activated machine with a new board and disk: beyond tolerance, not yet recorded by root
    cpSync(dir('licensed'), dir('oot'), { recursive: true });
  });

  after(async () => {
    await authority?.stop();
    tmp.cleanup();
  });

  it('the example app shows the right message and exit code for each state', () => {
    const cases = [
      { name: 'licensed', state: 'licensed', code: 0, message: /^Contoso Desk 2026 Pro is activated\.$/ },
      { name: 'grace', state: 'initialGrace', code: 0, message: /is not activated yet: activate it before / },
      { name: 'notification', state: 'notification', code: 1, message: /is not activated \(the initial grace/ },
      { name: 'unlicensed', state: 'unlicensed', code: 1, message: /^No product key is installed/ },
    ];
    for (const c of cases) {
      const r = checkLicense(env(c.name));
      assert.equal(r.status.state, c.state, `${c.name}: ${r.stderr}`);
      assert.equal(r.code, c.code, c.name);
      assert.match(r.message, c.message);
    }
    const oot = checkLicense(env('oot', fp('new-board', { board: 'board-2', disks: ['disk-2'] })));
    assert.equal(oot.status.state, 'ootGrace');
    assert.equal(oot.code, 0);
    assert.equal(Date.parse(oot.status.endsAt), clock.t + 30 * DAY);
    assert.match(oot.message, /must be activated again before .*hardware changed beyond tolerance/);
    const licensed = checkLicense(env('licensed')).status;
    assert.deepEqual(
      [licensed.edition, licensed.channel, licensed.activatedBy, licensed.endsAt, licensed.pending],
      [
        { number: licensed.edition.number, code: 'desk-pro', name: 'Contoso Desk 2026 Pro' },
        'VOLUME_MAK',
        'mak',
        null,
        null,
      ],
    );
  });

  it('-dli --json keeps its documented fields and types in every state', async () => {
    const states = {
      grace: 'initialGrace',
      unlicensed: 'unlicensed',
      licensed: 'licensed',
      notification: 'notification',
    };
    for (const [name, state] of Object.entries(states)) {
      const r = await must(['slmgr', '--json', '-dli'], env(name));
      assertDliContract(r.json, state);
    }
  });

  it('keeps the key text out of the files all may read, and opens a directory left 0700 on the next write', async () => {
    const d = dir('licensed');
    const mode = (f: string) => statSync(join(d, f)).mode & 0o777;
    assert.equal(statSync(d).mode & 0o777, 0o755);
    for (const f of ['state.json', 'license.json', 'root.pub', 'catalog.json']) assert.equal(mode(f), 0o644, f);
    for (const f of ['key.secret', 'events.jsonl']) assert.equal(mode(f), 0o600, f);
    const key = JSON.parse(readFileSync(join(d, 'key.secret'), 'utf8')).text as string;
    for (const f of readdirSync(d).filter((f) => mode(f) & 0o004))
      assert.ok(!readFileSync(join(d, f), 'utf8').includes(key), `${f} holds the key`);
    // a directory and a state.json as an older volact left them
    const e = env('oot');
    const state = JSON.parse(readFileSync(join(dir('oot'), 'state.json'), 'utf8'));
    state.key.text = key;
    writeFileSync(join(dir('oot'), 'state.json'), JSON.stringify(state), { mode: 0o600 });
    chmodSync(join(dir('oot'), 'state.json'), 0o600);
    chmodSync(join(dir('oot'), 'license.json'), 0o600);
    chmodSync(dir('oot'), 0o700);
    await must(['slmgr', '-skhc'], e);
    assert.equal(statSync(join(dir('oot'), 'license.json')).mode & 0o777, 0o644);
    assert.equal(statSync(dir('oot')).mode & 0o777, 0o755);
    assert.equal(statSync(join(dir('oot'), 'state.json')).mode & 0o777, 0o644);
    assert.equal(JSON.parse(readFileSync(join(dir('oot'), 'state.json'), 'utf8')).key.text, null);
    assert.equal(JSON.parse(readFileSync(join(dir('oot'), 'key.secret'), 'utf8')).text, key);
  });

  it('an unprivileged product reads the state root made, and nothing in the directory changes', async (t) => {
    if (!isRoot) return t.skip('needs root to make the state as root and read it as nobody');
    await traversable(EXAMPLE, () => traversable(CLI, () => readAsNobody()));
  });

  async function readAsNobody() {
    for (const name of ['licensed', 'grace']) {
      const before = snapshot(dir(name));
      const asRoot = checkLicense(env(name));
      // a minute later than root's last write: open() would record the time, readLicense must not
      clock.advance(5 * 60_000);
      const asNobody = checkLicense(env(name), true);
      assert.equal(asNobody.code, asRoot.code, asNobody.stderr);
      assert.equal(asNobody.status.state, asRoot.status.state);
      assert.equal(asNobody.status.machineId, asRoot.status.machineId);
      assert.deepEqual(asNobody.status.edition, asRoot.status.edition);
      const dli = spawnSync('setpriv', [...NOBODY, process.execPath, CLI, 'slmgr', '--json', '-dli'], {
        env: { ...process.env, NODE_ENV: 'test', ...env(name) },
        encoding: 'utf8',
      });
      assert.equal(dli.status, 0, dli.stderr + dli.stdout);
      assert.equal(JSON.parse(dli.stdout).licenseState, asRoot.status.state);
      assert.deepEqual(snapshot(dir(name)), before, `${name}: nothing written`);
    }
    // a license.json an older volact left 0600: the product cannot check, and says so (not "not activated")
    cpSync(dir('licensed'), dir('old'), { recursive: true });
    chmodSync(join(dir('old'), 'license.json'), 0o600);
    const old = checkLicense(env('old'), true);
    assert.equal(old.code, 2);
    assert.match(old.stderr, /Cannot check the licence: STATE_UNAVAILABLE/);
  }
});
