import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { ManualClock, VolactError, generateKeyPair, mintKey, publicKeyToPem, type Fingerprint } from '@volact/protocol';
import { Client } from './client.js';
import { readEvents } from './events.js';
import { readLicense } from './read-license.js';

const T0 = Date.UTC(2026, 0, 1);
const setupKey = mintKey(randomBytes(32), 'setup', 101, 5n);
const fp: Fingerprint = {
  osId: 'os-store-test',
  cpu: 'cpu',
  board: 'board',
  disks: ['d1'],
  nics: ['52:54:00:00:00:09'],
};

const tmpRoots: string[] = [];
after(() => {
  for (const d of tmpRoots) rmSync(d, { recursive: true, force: true });
});

/** A client with a pinned root and the setup key installed, whose host answers `body`. */
function machine(body: unknown, status = 200) {
  const dir = mkdtempSync(join(tmpdir(), 'volact-store-test-'));
  tmpRoots.push(dir);
  const fpFile = join(dir, 'fingerprint.json');
  writeFileSync(fpFile, JSON.stringify(fp));
  const clock = new ManualClock(T0);
  const client = new Client({
    dir,
    clock,
    env: { VOLACT_FINGERPRINT_FILE: fpFile },
    post: async () => ({ status, body }),
  });
  client.trust(publicKeyToPem(generateKeyPair('root').publicKey));
  client.setKms({ host: '10.0.0.5', port: 1688 });
  client.installKey(setupKey);
  return { dir, clock, client };
}

const isCode = (code: string) => (err: unknown) => err instanceof VolactError && err.code === code;

describe('Client store', () => {
  test('license() and details() write nothing when the machine observed nothing new', () => {
    const { dir, client } = machine({});
    const files = ['state.json', 'license.json'].map((f) => join(dir, f));
    const before = files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]);
    assert.equal(client.license().state, 'initialGrace');
    assert.equal(client.details().licenseState, 'initialGrace');
    assert.deepEqual(
      files.map((f) => [readFileSync(f, 'utf8'), statSync(f).mtimeMs]),
      before,
    );
  });
});

describe('Client host answers', () => {
  test('an answer with a field the schema does not know is HOST_UNREACHABLE and the attempt counts as failed', async () => {
    const { client } = machine({ answer: 'a.b.c', certificate: 'a.b.c', issuer: 'a.b.c', extra: 1 });
    await assert.rejects(
      client.activate(),
      (err: unknown) =>
        isCode('HOST_UNREACHABLE')(err) && /unexpected answer \(HTTP 200\)/.test((err as Error).message),
    );
    assert.equal(client.state().lastAttempt?.ok, false);
  });

  test("a host's error body keeps the host's code", async () => {
    const { client, dir } = machine(
      { code: 'RATE_LIMITED', params: { what: '10.0.0.9', limit: 60, retryAfter: 30 } },
      429,
    );
    await assert.rejects(client.activate(), isCode('RATE_LIMITED'));
    assert.deepEqual(
      readEvents(dir).map((e) => e.event),
      [12288],
    );
  });
});

describe('Client directory channel', () => {
  /** The modules a fresh process resolves while running `code` (ESM resolve hook). */
  function resolvedBy(code: string): string {
    const hooks = `export async function resolve(s, c, next) { const r = await next(s, c); process.stderr.write('RESOLVED ' + r.url + '\\n'); return r; }`;
    const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;
    const r = spawnSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', code],
      { encoding: 'utf8' },
    );
    assert.equal(r.status, 0, r.stderr);
    return r.stderr;
  }
  const here = (file: string) => new URL(file, import.meta.url).href;

  test('the LDAP client is not loaded with the client, only with the directory channel', () => {
    assert.doesNotMatch(resolvedBy(`await import(${JSON.stringify(here('./index.js'))});`), /\/ldapts\//);
    assert.match(resolvedBy(`await import(${JSON.stringify(here('./channels/directory.js'))});`), /\/ldapts\//);
  });
});

describe('readLicense', () => {
  const snapshot = (dir: string) =>
    readdirSync(dir)
      .sort()
      .map((f) => [f, statSync(join(dir, f)).mtimeMs, readFileSync(join(dir, f), 'utf8')]);

  test('answers as license() does and writes nothing where opening the store would record the time', () => {
    const { dir, clock, client } = machine({});
    clock.advance(10 * 60_000);
    const before = snapshot(dir);
    const status = readLicense({
      stateDir: dir,
      clock,
      env: { VOLACT_FINGERPRINT_FILE: join(dir, 'fingerprint.json') },
    });
    assert.deepEqual(snapshot(dir), before);
    assert.equal(status.state, 'initialGrace');
    assert.equal(status.edition?.number, 101);
    assert.equal(status.channel, 'VOLUME_HOSTCLIENT');
    assert.equal(status.machineId, client.state().machine.id);
    assert.notDeepEqual(snapshot(dir), before, 'opening the store records the time: the comparison can fail');
  });

  test('on a cloned image, no activation counts and no new machine ID is made: it is pending', () => {
    const { dir, clock } = machine({});
    const fpFile = join(dir, 'clone.json');
    writeFileSync(fpFile, JSON.stringify({ ...fp, osId: 'os-of-the-clone' }));
    const before = snapshot(dir);
    const status = readLicense({ stateDir: dir, clock, env: { VOLACT_FINGERPRINT_FILE: fpFile } });
    assert.deepEqual(snapshot(dir), before);
    assert.equal(status.machineId, null);
    assert.match(status.pending ?? '', /cloned image/);
    assert.deepEqual(readEvents(dir), [], 'no machineIdRenewed event');
  });

  test("takes nothing from the product's environment unless it is passed: whoever starts the product controls it", () => {
    const { dir, clock } = machine({});
    // the fingerprint the state was made with, given through the environment
    process.env.VOLACT_FINGERPRINT_FILE = join(dir, 'fingerprint.json');
    try {
      const withEnv = readLicense({ stateDir: dir, clock, env: process.env });
      assert.equal(withEnv.pending, null, 'passed, the environment names the machine the state was made on');
      const product = readLicense({ stateDir: dir, clock });
      assert.match(product.pending ?? '', /cloned image/, 'not passed, this machine is read, and it is another one');
    } finally {
      delete process.env.VOLACT_FINGERPRINT_FILE;
    }
  });

  test("refuses a state that pins another root than the product's, and a start of grace in the future", () => {
    const { dir, clock } = machine({});
    const env = { VOLACT_FINGERPRINT_FILE: join(dir, 'fingerprint.json') };
    const pinned = readFileSync(join(dir, 'root.pub'), 'utf8');
    assert.equal(readLicense({ stateDir: dir, clock, env, root: pinned }).state, 'initialGrace');
    const other = publicKeyToPem(generateKeyPair('root').publicKey);
    assert.throws(
      () => readLicense({ stateDir: dir, clock, env, root: other }),
      (e: unknown) => (e as VolactError).code === 'ROOT_MISMATCH',
    );
    const state = JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8'));
    state.graceStart = clock.now() + 365 * 86_400_000;
    writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
    assert.throws(
      () => readLicense({ stateDir: dir, clock, env }),
      (e: unknown) => (e as VolactError).code === 'STATE_CORRUPT' && /future/.test((e as Error).message),
    );
  });

  test('with no state it is unlicensed, and says volact has not run here', () => {
    const status = readLicense({ stateDir: join(tmpdir(), `volact-none-${randomBytes(4).toString('hex')}`) });
    assert.equal(status.state, 'unlicensed');
    assert.match(status.reason, /has not run on this machine/);
  });

  test("keeps the key's text out of state.json (0644), in key.secret (0600), and reads it back from there", () => {
    const { dir, client } = machine({});
    const mode = (f: string) => statSync(join(dir, f)).mode & 0o777;
    assert.deepEqual([mode('state.json'), mode('key.secret'), statSync(dir).mode & 0o777], [0o644, 0o600, 0o755]);
    assert.ok(!readFileSync(join(dir, 'state.json'), 'utf8').includes(setupKey));
    assert.equal(client.state().key?.text, setupKey, 'read back from key.secret');
  });

  test('keeps a key.secret a newer -ipk wrote when its state.json was never written, and removes it with -upk', () => {
    const { dir, client } = machine({});
    const installedAt = client.state().key!.installedAt;
    // a newer -ipk that stopped between key.secret and state.json
    writeFileSync(join(dir, 'key.secret'), JSON.stringify({ v: 1, text: 'NEWER-KEY', installedAt: installedAt + 1 }));
    assert.equal(client.state().key?.text, null, 'not the installed key');
    client.setHostCaching(false); // any save
    assert.match(readFileSync(join(dir, 'key.secret'), 'utf8'), /NEWER-KEY/, 'left for the -ipk that is run again');
    writeFileSync(join(dir, 'key.secret'), JSON.stringify({ v: 1, text: setupKey, installedAt }));
    client.uninstallKey();
    assert.equal(existsSync(join(dir, 'key.secret')), false, '-upk removes the key text');
  });
});
