import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir, volact } from './harness/cli.js';

const UNITS = new URL('../../packaging/systemd/', import.meta.url).pathname;
const INSTALLED = '/usr/bin/volact';

const analyzer = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const unavailable =
  analyzer.error || analyzer.status !== 0
    ? 'systemd-analyze is not installed (Debian package systemd; npm test installs it with apt when run as root)'
    : undefined;

/** The settings of a unit's [Service] section: key to its values, in order. */
function serviceSection(text: string): Map<string, string[]> {
  const section = text.slice(text.indexOf('[Service]'), text.indexOf('[Install]'));
  const settings = new Map<string, string[]>();
  for (const line of section.split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) settings.set(m[1]!, [...(settings.get(m[1]!) ?? []), m[2]!]);
  }
  return settings;
}

describe('systemd units in packaging/systemd', { skip: unavailable ?? false }, () => {
  const tmp = tempDir('volact-units-');
  after(() => tmp.cleanup());
  const units = readdirSync(UNITS).filter((f) => f.endsWith('.service'));
  // systemd-analyze verify needs ExecStart's binary: a stub stands in for the installed volact
  const stub = join(tmp.path, 'bin', 'volact');
  mkdirSync(join(tmp.path, 'bin'));
  writeFileSync(stub, '#!/bin/sh\nexit 0\n');
  chmodSync(stub, 0o755);

  /** Verifies a copy of `text` named `name` in a directory of its own (its drop-ins beside it). */
  function verify(name: string, text: string, dropIn?: string) {
    const dir = join(tmp.path, `${name}-${Math.random().toString(36).slice(2)}`);
    mkdirSync(dir);
    writeFileSync(join(dir, name), text.replaceAll(INSTALLED, stub));
    if (dropIn) {
      mkdirSync(join(dir, `${name}.d`));
      copyFileSync(join(UNITS, dropIn), join(dir, `${name}.d`, dropIn));
    }
    return spawnSync('systemd-analyze', ['verify', join(dir, name)], { encoding: 'utf8' });
  }

  it('has a unit for the authority, the host and the hypervisor agent', () => {
    assert.deepEqual(units.sort(), ['volact-authority.service', 'volact-host.service', 'volact-hypervisor.service']);
  });

  for (const unit of ['volact-authority.service', 'volact-host.service', 'volact-hypervisor.service']) {
    const text = readFileSync(join(UNITS, unit), 'utf8');
    const role = /volact-(\w+)\.service/.exec(unit)![1]!;

    it(`${unit} passes systemd-analyze verify without a warning, alone and with low-port.conf`, () => {
      for (const dropIn of [undefined, 'low-port.conf']) {
        const r = verify(unit, text, dropIn);
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stderr.trim(), '', `no warnings (an unknown key is one) with ${dropIn ?? 'no drop-in'}`);
      }
    });

    it(`${unit} runs the installed volact as the user volact in a hardened 0700 state directory`, () => {
      const s = serviceSection(text);
      const one = (key: string) => s.get(key)?.join(' ');
      assert.equal(one('User'), 'volact');
      assert.equal(one('StateDirectory'), `volact/${role}`);
      assert.equal(one('StateDirectoryMode'), '0700');
      assert.equal(one('Restart'), 'on-failure');
      for (const [key, value] of [
        ['NoNewPrivileges', 'yes'],
        ['ProtectSystem', 'strict'],
        ['PrivateTmp', 'yes'],
        ['ProtectHome', 'yes'],
      ])
        assert.equal(one(key!), value, key);
      const exec = one('ExecStart')!;
      assert.ok(exec.startsWith(`${INSTALLED} ${role} serve `), exec);
      assert.ok(exec.includes(`/var/lib/volact/${role}`), 'the state directory systemd makes');
      // low ports only through the drop-in; the agent alone needs a capability (CAP_NET_ADMIN)
      assert.equal(one('CapabilityBoundingSet'), role === 'hypervisor' ? 'CAP_NET_ADMIN' : '');
      assert.doesNotMatch(one('AmbientCapabilities') ?? '', /CAP_NET_BIND_SERVICE/);
      if (role === 'hypervisor') assert.equal(one('ExecReload'), undefined, 'nothing to reload');
      else assert.equal(one('ExecReload'), '/bin/kill -HUP $MAINPID');
    });

    it(`${unit} gives only options that volact ${role} serve takes`, async () => {
      const help = await volact([role, 'serve', '--help']);
      assert.equal(help.code, 0);
      const options =
        serviceSection(text)
          .get('ExecStart')![0]!
          .match(/--[a-z-]+/g) ?? [];
      assert.ok(options.length > 0);
      for (const option of options) assert.ok(help.stdout.includes(`${option} `), `${option} in volact ${role} serve`);
    });
  }

  it('low-port.conf grants binding to low ports and nothing else', () => {
    const s = serviceSection(readFileSync(join(UNITS, 'low-port.conf'), 'utf8') + '\n[Install]');
    assert.deepEqual(s.get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(s.get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
    assert.equal(s.size, 2);
  });

  it('fails a unit with a relative ExecStart, a missing binary, or a misspelt key', () => {
    const host = readFileSync(join(UNITS, 'volact-host.service'), 'utf8');
    const relative = verify('relative.service', host.replace(`ExecStart=${INSTALLED}`, 'ExecStart=bin/volact'));
    assert.equal(relative.status, 1);
    assert.match(relative.stderr, /Neither a valid executable name nor an absolute path: bin\/volact/);
    const missing = verify('missing.service', host.replace(`ExecStart=${INSTALLED}`, 'ExecStart=/nonexistent/volact'));
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /\/nonexistent\/volact is not executable/);
    const typo = verify('typo.service', host.replace('NoNewPrivileges=', 'NoNewPrivilege='));
    assert.match(typo.stderr, /Unknown key 'NoNewPrivilege'/, 'the warning the clean check above would catch');
  });
});
