import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { VolactError, type Fingerprint } from '@volact/protocol';
import { fingerprintBackend, readFingerprint } from './fingerprint.js';
import { macValue, partValue } from './fingerprint-parts.js';
import { runCommand, type RunCommand } from './run-command.js';

const noCommands: RunCommand = (file) => {
  throw new Error(`no command may run, but ${file} did`);
};

const isUnavailable = (e: unknown) => e instanceof VolactError && e.code === 'FINGERPRINT_UNAVAILABLE';

describe('fingerprint backends', () => {
  test('picks the reader by platform: Windows, macOS, and Linux for every other Unix', () => {
    assert.equal(fingerprintBackend('win32', noCommands).name, 'windows');
    assert.equal(fingerprintBackend('darwin', noCommands).name, 'macos');
    assert.equal(fingerprintBackend('linux', noCommands).name, 'linux');
    assert.equal(fingerprintBackend('freebsd', noCommands).name, 'linux');
  });

  test('VOLACT_FINGERPRINT_FILE replaces the reader on every platform, and no command runs', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'volact-fp-')), 'fp.json');
    const fp: Fingerprint = { osId: 'vdi-7', cpu: 'c', board: 'b', disks: ['d'], nics: ['n'] };
    writeFileSync(file, JSON.stringify(fp));
    for (const platform of ['win32', 'darwin', 'linux'] as const)
      assert.deepEqual(readFingerprint({ VOLACT_FINGERPRINT_FILE: file }, { platform, run: noCommands }), fp);
  });

  test('a fingerprint file without osId is refused as STATE_CORRUPT', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'volact-fp-')), 'fp.json');
    writeFileSync(file, '{"disks":[],"nics":[]}');
    assert.throws(
      () => readFingerprint({ VOLACT_FINGERPRINT_FILE: file }, { platform: 'win32', run: noCommands }),
      (e: unknown) => e instanceof VolactError && e.code === 'STATE_CORRUPT',
    );
  });
});

describe('fingerprint parts', () => {
  test('firmware placeholders and unset values are no part', () => {
    for (const v of ['To be filled by O.E.M.', 'Default string', ' 0000_0000 ', '00000000-0000-0000-0000-000000000000'])
      assert.equal(partValue(v), '', v);
    assert.equal(partValue('FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF'), '');
    assert.equal(partValue('  S4EVNG0123456 '), 'S4EVNG0123456');
  });

  test('MAC addresses read as Linux prints them; made-up and multicast ones are no part', () => {
    assert.equal(macValue('F4-B3-01-2A-7C-5E'), 'f4:b3:01:2a:7c:5e');
    assert.equal(macValue('2A:61:9C:05:33:E1'), ''); // locally administered (Windows random address)
    assert.equal(macValue('01:00:5e:00:00:01'), ''); // multicast
    assert.equal(macValue('00:00:00:00:00:00'), '');
    assert.equal(macValue('N/A'), '');
  });
});

describe('runCommand', () => {
  const node = process.execPath;

  test('returns what the command printed', () => {
    assert.equal(runCommand(node, ['-e', 'process.stdout.write("MachineGuid")'], 10_000), 'MachineGuid');
  });

  test('a command that fails is FINGERPRINT_UNAVAILABLE with its first line of stderr', () => {
    assert.throws(
      () => runCommand(node, ['-e', 'console.error("ERROR: access denied"); process.exit(1)'], 10_000),
      (e: unknown) => isUnavailable(e) && /exited with 1: ERROR: access denied/.test((e as Error).message),
    );
  });

  test('a command that hangs is stopped at its time limit and is FINGERPRINT_UNAVAILABLE', () => {
    const started = Date.now();
    assert.throws(
      () => runCommand(node, ['-e', 'setTimeout(() => {}, 60_000)'], 300),
      (e: unknown) => isUnavailable(e) && /did not finish within 300 ms/.test((e as Error).message),
    );
    assert.ok(Date.now() - started < 10_000);
  });

  test('a command that does not exist is FINGERPRINT_UNAVAILABLE', () => {
    assert.throws(() => runCommand('/nonexistent/reg.exe', [], 1000), isUnavailable);
  });
});
