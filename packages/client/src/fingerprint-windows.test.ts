import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { VolactError, sameMachine } from '@volact/protocol';
import { readFingerprint } from './fingerprint.js';
import { cimParts, cimScript, parseCimJson, parseMachineGuid, type CimAnswer } from './fingerprint-windows.js';
import type { RunCommand } from './run-command.js';

const fixture = (name: string) => readFileSync(new URL(`../src/fixtures/fingerprint/${name}`, import.meta.url), 'utf8');

/**
 * The recorded outputs are Format-List text (`Get-CimInstance … | Select-Object -Property *`):
 * "Name : value" lines, long values wrapped onto indented lines. One instance per blank-line block.
 */
function formatList(text: string): Record<string, unknown>[] {
  const records: Record<string, unknown>[] = [];
  for (const block of text.split(/\r?\n\s*\r?\n/)) {
    const r: Record<string, unknown> = {};
    let last = '';
    for (const line of block.split(/\r?\n/)) {
      const m = /^(\S+)\s*: ?(.*)$/.exec(line);
      if (m) r[(last = m[1]!)] = m[2]!.trim();
      else if (last && line.trim()) r[last] = `${String(r[last])}${line.trim()}`;
    }
    if (Object.keys(r).length) records.push(r);
  }
  return records;
}

/** The HP ZBook Firefly 16 G10 of the recorded outputs, as the CIM answer would hold it. */
function recordedMachine(): CimAnswer {
  return {
    ComputerSystemProduct: formatList(fixture('windows-wmi-computersystemproduct.txt')),
    BaseBoard: formatList(fixture('windows-cim-baseboard.txt')),
    Processor: formatList(fixture('windows-wmi-processor.txt')),
    DiskDrive: formatList(fixture('windows-cim-diskdrive.txt')),
    NetworkAdapter: [],
  };
}

const GUID = '3f2504e0-4f89-41d3-9a0c-0305e82c3301';

/** Answers the two Windows commands with fixtures, and records what was run. */
function fakeWindows(cim = fixture('windows-cim-answer.constructed.json')) {
  const calls: { file: string; args: readonly string[] }[] = [];
  const run: RunCommand = (file, args) => {
    calls.push({ file, args });
    if (file.endsWith('reg.exe')) return fixture('windows-reg-machineguid.constructed.txt');
    if (file.endsWith('powershell.exe')) return cim;
    throw new Error(`unexpected command ${file}`);
  };
  return { run, calls };
}

describe('Windows fingerprint', () => {
  test('reads the board, CPU and disk of a recorded HP ZBook from its CIM outputs', () => {
    assert.deepEqual(cimParts(recordedMachine()), {
      cpu: '13th Gen Intel(R) Core(TM) i7-1370P',
      board: '8FFED48F-26F9-45DB-B3E6-F80F200564DA',
      disks: ['0025_3846_3140_F11C.'],
      nics: [],
    });
  });

  test('falls back to the board serial when the system UUID is a firmware placeholder', () => {
    const m = recordedMachine();
    m.ComputerSystemProduct = [{ UUID: '03000200-0400-0500-0006-000700080009' }];
    assert.equal(cimParts(m).board, 'PRTUD00WBIB1R5');
    m.ComputerSystemProduct = [{ UUID: 'FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF' }];
    m.BaseBoard = [{ SerialNumber: 'To be filled by O.E.M.' }];
    assert.equal(cimParts(m).board, '');
  });

  test("takes the processor's name, not its placeholder serial ('To Be Filled By O.E.M.' in the recording)", () => {
    const cpu = formatList(fixture('windows-wmi-processor.txt'))[0]!;
    assert.equal(cpu.SerialNumber, 'To Be Filled By O.E.M.');
    assert.equal(cimParts({ ...recordedMachine(), Processor: [cpu] }).cpu, '13th Gen Intel(R) Core(TM) i7-1370P');
  });

  test('parses the MachineGuid line of reg query, and nothing from an error', () => {
    assert.equal(parseMachineGuid(fixture('windows-reg-machineguid.constructed.txt')), GUID);
    assert.equal(parseMachineGuid('ERROR: The system was unable to find the specified registry key or value.'), '');
  });

  test('keeps fixed disks and hardware adapters, drops USB sticks and virtual, Bluetooth and VPN adapters', () => {
    const parts = cimParts(parseCimJson(fixture('windows-cim-answer.constructed.json')));
    assert.deepEqual(parts.disks, ['0025_3846_3140_F11C.']);
    // Wi-Fi (PCI) and a USB Ethernet dongle; not Bluetooth PAN, Hyper-V, TAP or Wi-Fi Direct
    assert.deepEqual(parts.nics, ['00:e0:4c:68:01:9a', 'f4:b3:01:2a:7c:5e']);
  });

  test("reads ConvertTo-Json's single-object and {value, Count} shapes as lists", () => {
    const c = parseCimJson(fixture('windows-cim-answer.constructed.json'));
    assert.deepEqual(c.BaseBoard, [{ SerialNumber: 'PRTUD00WBIB1R5' }]);
    assert.equal(c.Processor.length, 1);
    assert.deepEqual(parseCimJson('{"DiskDrive":null}').DiskDrive, []);
  });

  test('runs reg.exe and powershell.exe from System32, in the 64-bit registry view', () => {
    const { run, calls } = fakeWindows();
    const fp = readFingerprint({ SystemRoot: 'D:\\WINDOWS' }, { platform: 'win32', run });
    assert.equal(fp.osId, GUID);
    assert.deepEqual(
      calls.map((c) => c.file),
      ['D:\\WINDOWS\\System32\\reg.exe', 'D:\\WINDOWS\\System32\\WindowsPowerShell\\v1.0\\powershell.exe'],
    );
    assert.ok(calls[0]!.args.includes('/reg:64'));
    const encoded = calls[1]!.args[calls[1]!.args.indexOf('-EncodedCommand') + 1]!;
    assert.equal(Buffer.from(encoded, 'base64').toString('utf16le'), cimScript());
    assert.match(cimScript(), /Get-CimInstance -ClassName Win32_NetworkAdapter -Filter 'PhysicalAdapter = TRUE'/);
  });

  test('a USB stick plugged in leaves the machine the same', () => {
    const before = readFingerprint({}, { platform: 'win32', run: fakeWindows().run });
    const c = JSON.parse(fixture('windows-cim-answer.constructed.json')) as { DiskDrive: unknown[] };
    c.DiskDrive = c.DiskDrive.slice(0, 1);
    const now = readFingerprint({}, { platform: 'win32', run: fakeWindows(JSON.stringify(c)).run });
    assert.deepEqual(sameMachine(before, now), { same: true, clone: false, score: 0, changed: [] });
  });

  test('PowerShell that prints no JSON is FINGERPRINT_UNAVAILABLE, not a machine without hardware', () => {
    const { run } = fakeWindows('Get-CimInstance : Access denied');
    assert.throws(
      () => readFingerprint({}, { platform: 'win32', run }),
      (e: unknown) => e instanceof VolactError && e.code === 'FINGERPRINT_UNAVAILABLE',
    );
  });

  test('a registry answer without a MachineGuid is an error too', () => {
    const { run: base } = fakeWindows();
    const run: RunCommand = (file, args, timeoutMs) =>
      file.endsWith('reg.exe')
        ? '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n\r\n'
        : base(file, args, timeoutMs);
    assert.throws(
      () => readFingerprint({}, { platform: 'win32', run }),
      (e: unknown) => e instanceof VolactError && e.code === 'FINGERPRINT_UNAVAILABLE' && /MachineGuid/.test(e.message),
    );
  });

  test('a registry read that fails is an error, never the OS identity "unknown" (which would be a clone)', () => {
    const run: RunCommand = (file) => {
      throw new VolactError('FINGERPRINT_UNAVAILABLE', { command: file, reason: 'it exited with 1' });
    };
    assert.throws(
      () => readFingerprint({}, { platform: 'win32', run }),
      (e: unknown) => e instanceof VolactError && e.code === 'FINGERPRINT_UNAVAILABLE',
    );
  });
});
