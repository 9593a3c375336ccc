import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { VolactError } from '@volact/protocol';
import { readFingerprint } from './fingerprint.js';
import { parseHardwarePorts, parseIoreg, parseProfilerDisks } from './fingerprint-macos.js';
import type { RunCommand } from './run-command.js';

const fixture = (name: string) => readFileSync(new URL(`../src/fixtures/fingerprint/${name}`, import.meta.url), 'utf8');

/** Answers the four macOS commands with recorded outputs (sysctl's one line is typed in). */
function fakeMac(overrides: Record<string, string> = {}) {
  const outputs: Record<string, string> = {
    '/usr/sbin/ioreg': fixture('macos-ioreg-platform-expert.txt'),
    '/usr/sbin/sysctl': 'Intel(R) Core(TM) i5-5257U CPU @ 2.70GHz\n',
    '/usr/sbin/system_profiler': fixture('macos-system-profiler-storage.json'),
    '/usr/sbin/networksetup': fixture('macos-networksetup-hardwareports.txt'),
    ...overrides,
  };
  const calls: string[] = [];
  const run: RunCommand = (file, args) => {
    calls.push([file, ...args].join(' '));
    const out = outputs[file];
    if (out === undefined) throw new Error(`unexpected command ${file}`);
    return out;
  };
  return { run, calls };
}

describe('macOS fingerprint', () => {
  test("reads IOPlatformUUID and the serial from a recorded MacBookPro12,1's ioreg", () => {
    assert.deepEqual(parseIoreg(fixture('macos-ioreg-platform-expert.txt')), {
      uuid: 'A3344D1DD-1234-22A1-B123-11AB1C11D111',
      serial: 'CCCCCCCCC',
    });
    assert.deepEqual(parseIoreg('no such class'), { uuid: '', serial: '' });
  });

  test("reads the internal NVMe drive's serial from a recorded system_profiler, not its volumes", () => {
    assert.deepEqual(parseProfilerDisks(fixture('macos-system-profiler-storage.json')), ['0ba018e4045c5e3e']);
  });

  test('leaves out a drive that says it is detachable (an external disk)', () => {
    const doc = JSON.parse(fixture('macos-system-profiler-storage.json')) as {
      SPNVMeDataType: { _items: Record<string, unknown>[] }[];
    };
    doc.SPNVMeDataType[0]!._items.push({ device_serial: 'EXT123', detachable_drive: 'yes' });
    assert.deepEqual(parseProfilerDisks(JSON.stringify(doc)), ['0ba018e4045c5e3e']);
  });

  test("keeps a recorded Mac's en ports and drops its Thunderbolt bridge", () => {
    assert.deepEqual(parseHardwarePorts(fixture('macos-networksetup-hardwareports.txt')), [
      '00:00:5e:00:53:01',
      '00:00:5e:00:53:02',
      '00:00:5e:00:53:03',
      '00:00:5e:00:53:04',
      '00:00:5e:00:53:06',
      '00:00:5e:00:53:07',
      '00:00:5e:00:53:08',
      '00:00:5e:00:53:09',
    ]);
  });

  test('drops iPhone USB, Bluetooth PAN, ports without an address and private (locally administered) addresses', () => {
    const out = [
      'Hardware Port: Wi-Fi\nDevice: en0\nEthernet Address: 3c:22:fb:10:20:30',
      'Hardware Port: iPhone USB\nDevice: en8\nEthernet Address: 3c:22:fb:10:20:31',
      'Hardware Port: Bluetooth PAN\nDevice: en9\nEthernet Address: 3c:22:fb:10:20:32',
      'Hardware Port: Thunderbolt 1\nDevice: en1\nEthernet Address: 36:1a:2b:3c:4d:5e',
      'Hardware Port: Ethernet\nDevice: en2\nEthernet Address: N/A',
    ].join('\n\n');
    assert.deepEqual(parseHardwarePorts(out), ['3c:22:fb:10:20:30']);
  });

  test('reads a whole Mac through the four commands, each by its full path', () => {
    const { run, calls } = fakeMac();
    assert.deepEqual(readFingerprint({}, { platform: 'darwin', run }), {
      osId: 'A3344D1DD-1234-22A1-B123-11AB1C11D111',
      cpu: 'Intel(R) Core(TM) i5-5257U CPU @ 2.70GHz',
      board: 'CCCCCCCCC',
      disks: ['0ba018e4045c5e3e'],
      nics: parseHardwarePorts(fixture('macos-networksetup-hardwareports.txt')),
    });
    assert.deepEqual(calls, [
      '/usr/sbin/ioreg -rd1 -c IOPlatformExpertDevice',
      '/usr/sbin/sysctl -n machdep.cpu.brand_string',
      '/usr/sbin/system_profiler SPNVMeDataType SPSerialATADataType -json',
      '/usr/sbin/networksetup -listallhardwareports',
    ]);
  });

  test('system_profiler output that is not JSON is FINGERPRINT_UNAVAILABLE', () => {
    const { run } = fakeMac({ '/usr/sbin/system_profiler': '2024-01-01 system_profiler[1] crashed' });
    assert.throws(
      () => readFingerprint({}, { platform: 'darwin', run }),
      (e: unknown) => e instanceof VolactError && e.code === 'FINGERPRINT_UNAVAILABLE',
    );
  });
});
