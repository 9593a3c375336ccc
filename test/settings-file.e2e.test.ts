import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir, volact } from './harness/cli.js';
import { track } from './harness/children.js';
import { startService, type Service } from './harness/processes.js';

/**
 * Settings of a real `host serve` from flags, the environment, a settings file (TOML or JSON)
 * and what the host stored, in that order (issue 13); `host config --show` says where each
 * comes from; a bad file refuses the start with its line and field and changes nothing.
 */
describe('a host configured by flags, environment, file and stored settings', () => {
  let base: { path: string; cleanup: () => void };
  let dir: string;
  let root: string;
  const services: Service[] = [];

  const serve = async (args: string[], env: Record<string, string> = {}) => {
    const s = await startService(['host', 'serve', '--state', dir, '--port', '0', ...args], env);
    services.push(s);
    return s;
  };
  const show = async (args: string[] = [], env: Record<string, string> = {}) => {
    const r = await volact(['host', 'config', '--show', '--state', dir, '--json', ...args], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const rows = (r.json as { settings: { setting: string; value: unknown; source: string }[] }).settings;
    return Object.fromEntries(rows.map((s) => [s.setting, { value: s.value, source: s.source }]));
  };
  const dlv = async () => {
    const r = await volact(['slmgr', '--host', dir, '-dlv', '--json']);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    return r.json as { hostName: string; listenAddress: string; servedNetworks: string[] };
  };

  before(async () => {
    base = tempDir('volact-settings-');
    dir = join(base.path, 'host');
    const init = await volact(['authority', 'init', '--dir', join(base.path, 'authority'), '--json']);
    assert.equal(init.code, 0, init.stderr);
    root = join(base.path, 'authority', 'root.pub');
  });
  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    base?.cleanup();
  });

  test('the file sets what no flag or variable gives; the environment wins over it, and a flag over both', async () => {
    const file = join(base.path, 'host.toml');
    writeFileSync(
      file,
      [
        '# the host of the Oslo office',
        'name = "from-file"',
        'listen = "127.0.0.1"',
        'serve-networks = ["127.0.0.0/8", "10.0.0.0/8"]',
        '',
      ].join('\n'),
    );
    let host = await serve(['--root', root, '--config', file]);
    let d = await dlv();
    assert.equal(d.hostName, 'from-file');
    assert.equal(d.listenAddress, '127.0.0.1');
    assert.deepEqual(d.servedNetworks, ['127.0.0.0/8', '10.0.0.0/8']);
    await host.stop();

    host = await serve(['--config', file], { VOLACT_HOST_NAME: 'from-env' });
    assert.equal((await dlv()).hostName, 'from-env');
    await host.stop();

    host = await serve(['--config', file, '--name', 'from-flag'], { VOLACT_HOST_NAME: 'from-env' });
    d = await dlv();
    assert.equal(d.hostName, 'from-flag');
    await host.stop();

    const shown = await show(['--config', file], { VOLACT_HOST_NAME: 'from-env' });
    assert.deepEqual(shown.name, { value: 'from-env', source: 'env' });
    assert.deepEqual(shown.listen, { value: '127.0.0.1', source: 'file' });
    assert.deepEqual(shown['serve-networks'], { value: '127.0.0.0/8,10.0.0.0/8', source: 'file' });
    assert.deepEqual(shown['renewal-minutes (-sri)'], { value: 10080, source: 'default' });
    // without the file, what the host stored from the last start
    const stored = await show();
    assert.deepEqual(stored.name, { value: 'from-flag', source: 'stored' });
    assert.deepEqual(stored.listen, { value: '127.0.0.1', source: 'stored' });
  });

  test('a JSON file works alike', async () => {
    const file = join(base.path, 'host.json');
    writeFileSync(file, JSON.stringify({ name: 'from-json', 'max-connections-per-address': 3 }, null, 2));
    const host = await serve(['--config', file]);
    assert.equal((await dlv()).hostName, 'from-json');
    await host.stop();
    assert.deepEqual((await show(['--config', file]))['max-connections-per-address'], { value: '3', source: 'file' });
  });

  test('a bad file refuses the start with its line and field, and the settings in force stay', async () => {
    const before = await show();
    const cases: [string, string, RegExp][] = [
      ['bad1.toml', 'name = "x"\nprot = 1689\n', /line 2: prot is not a setting of volact host serve/],
      ['bad2.toml', 'name = "x"\n\nlisten = = 1\n', /line 3: Invalid TOML/],
      ['bad3.json', '{\n  "name": "x",\n  "listen": true\n}\n', /line 3: listen must be a string or a number/],
      ['bad4.toml', '[dns]\nserver = "ns1"\n', /dns is not a setting/],
    ];
    for (const [name, text, message] of cases) {
      const file = join(base.path, name);
      writeFileSync(file, text);
      const r = await volact(['host', 'serve', '--state', dir, '--port', '0', '--config', file, '--name', 'changed']);
      assert.equal(r.code, 2, `${name}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, /Error CONFIG_INVALID: the settings file .* is not valid at /);
      assert.match(r.stderr, message);
    }
    assert.deepEqual(await show(), before, 'nothing was stored');
  });

  test('the authority and the hypervisor agent read their own files the same way', async () => {
    const a = join(base.path, 'authority.toml');
    writeFileSync(a, 'port = 0\nrate-per-key = 7\n');
    const authority = await startService(['authority', 'serve', '--dir', join(base.path, 'authority'), '--config', a]);
    services.push(authority);
    assert.ok(authority.port > 0);
    await authority.stop();
    writeFileSync(a, 'port = 0\nrate-per-kye = 7\n');
    const bad = await volact(['authority', 'serve', '--dir', join(base.path, 'authority'), '--config', a]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /CONFIG_INVALID: .* line 2: rate-per-kye is not a setting of volact authority serve/);
    const h = join(base.path, 'hypervisor.toml');
    writeFileSync(h, 'inventory = "static:/nonexistent.json"\nlisten = ["127.0.0.1:0", 7]\nbridge = true\n');
    const agent = await volact(['hypervisor', 'serve', '--state', join(base.path, 'hv'), '--config', h]);
    assert.equal(agent.code, 2);
    assert.match(agent.stderr, /CONFIG_INVALID: .* line 3: bridge must be a string or a number/);
  });

  test('a reload (SIGHUP) while the host starts does not end it: the reload runs once it is up', async () => {
    const bin = new URL('../../packages/cli/bin/volact.js', import.meta.url).pathname;
    const child = spawn(process.execPath, [bin, 'host', 'serve', '--state', dir, '--port', '0'], {
      env: { ...process.env, NODE_ENV: 'test' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    track(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    // as soon as the process catches SIGHUP (SigCgt in /proc), long before it listens
    const catches = () => {
      const m = /^SigCgt:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m !== null && (BigInt('0x' + m[1]) & 1n) === 1n;
    };
    while (!catches() && child.exitCode === null) await new Promise((r) => setTimeout(r, 2));
    assert.doesNotMatch(out, /listening/, 'the reload comes while the host starts');
    child.kill('SIGHUP');
    const deadline = Date.now() + 15_000;
    while (!/"msg":"reloaded"/.test(out) && child.exitCode === null && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    try {
      assert.equal(child.exitCode, null, `the host ended: ${out}`);
      assert.equal(child.signalCode, null);
      assert.match(out, /"msg":"listening"/);
      assert.match(out, /"msg":"reloaded"/, 'the reload ran once the host was up');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});
