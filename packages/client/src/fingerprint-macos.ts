import { VolactError, type Fingerprint } from '@volact/protocol';
import { macValue, partSet, partValue } from './fingerprint-parts.js';
import type { RunCommand } from './run-command.js';

/** One `"key" = "value"` string property of an ioreg listing. */
function ioregString(out: string, key: string): string {
  return partValue(new RegExp(`"${key}" = "([^"]*)"`).exec(out)?.[1]);
}

/**
 * Parses `ioreg -rd1 -c IOPlatformExpertDevice`: IOPlatformUUID (the hardware UUID "About This
 * Mac" shows, macOS's own machine identity) and IOPlatformSerialNumber (the Mac's serial, which
 * stands for the board).
 */
export function parseIoreg(out: string): { uuid: string; serial: string } {
  return { uuid: ioregString(out, 'IOPlatformUUID'), serial: ioregString(out, 'IOPlatformSerialNumber') };
}

type ProfilerItem = Record<string, unknown>;

/** Drives the Mac holds: an item says "yes" to detachable_drive or removable_media when it does not. */
function internalDrive(d: ProfilerItem): boolean {
  return d.detachable_drive !== 'yes' && d.removable_media !== 'yes';
}

/**
 * Parses `system_profiler SPNVMeDataType SPSerialATADataType -json`: each data type lists its
 * controllers, each controller its drives in _items; a drive's serial is device_serial.
 */
export function parseProfilerDisks(out: string): string[] {
  const doc = JSON.parse(out) as Record<string, unknown>;
  const serials: string[] = [];
  for (const type of ['SPNVMeDataType', 'SPSerialATADataType']) {
    const controllers = Array.isArray(doc[type]) ? (doc[type] as ProfilerItem[]) : [];
    for (const controller of controllers) {
      const drives = Array.isArray(controller?._items) ? (controller._items as ProfilerItem[]) : [];
      for (const d of drives) if (d && internalDrive(d)) serials.push(partValue(d.device_serial));
    }
  }
  return partSet(serials);
}

/**
 * Ports that are not a network card of this Mac: the Thunderbolt bridge (its address is one of
 * its members'), a phone or tablet sharing its connection, Bluetooth PAN, VPN and VLAN ports.
 */
const NOT_A_CARD = /bridge|iphone|ipad|bluetooth|vpn|vlan/i;

/** Parses `networksetup -listallhardwareports`: blocks of Hardware Port, Device, Ethernet Address. */
export function parseHardwarePorts(out: string): string[] {
  const macs: string[] = [];
  for (const block of out.split(/\r?\n\s*\r?\n/)) {
    const port = /^Hardware Port:\s*(.+)$/m.exec(block)?.[1]?.trim() ?? '';
    const device = /^Device:\s*(.+)$/m.exec(block)?.[1]?.trim() ?? '';
    const address = /^Ethernet Address:\s*(.+)$/m.exec(block)?.[1]?.trim() ?? '';
    if (!port || NOT_A_CARD.test(port) || !/^en\d+$/.test(device)) continue;
    macs.push(macValue(address));
  }
  return partSet(macs);
}

const TIMEOUT_MS = 10_000;
/** system_profiler walks the storage buses; on a Mac with many drives that takes seconds. */
const PROFILER_TIMEOUT_MS = 60_000;

/** macOS: IOPlatformUUID and the serial from ioreg, the CPU from sysctl, disks and ports. */
export function readMacFingerprint(run: RunCommand): Fingerprint {
  const platform = parseIoreg(run('/usr/sbin/ioreg', ['-rd1', '-c', 'IOPlatformExpertDevice'], TIMEOUT_MS));
  const cpu = partValue(run('/usr/sbin/sysctl', ['-n', 'machdep.cpu.brand_string'], TIMEOUT_MS));
  const profiler = run(
    '/usr/sbin/system_profiler',
    ['SPNVMeDataType', 'SPSerialATADataType', '-json'],
    PROFILER_TIMEOUT_MS,
  );
  let disks: string[];
  try {
    disks = parseProfilerDisks(profiler);
  } catch (err) {
    const reason = `its output is not the JSON expected (${err instanceof Error ? err.message : String(err)})`;
    throw new VolactError('FINGERPRINT_UNAVAILABLE', { command: 'system_profiler', reason });
  }
  if (!platform.uuid)
    throw new VolactError('FINGERPRINT_UNAVAILABLE', {
      command: 'ioreg -rd1 -c IOPlatformExpertDevice',
      reason: 'its output holds no IOPlatformUUID',
    });
  const ports = run('/usr/sbin/networksetup', ['-listallhardwareports'], TIMEOUT_MS);
  return {
    osId: platform.uuid,
    cpu,
    board: platform.serial,
    disks,
    nics: parseHardwarePorts(ports),
  };
}
