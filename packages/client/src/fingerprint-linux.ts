import { existsSync, readFileSync, readdirSync } from 'node:fs';
import type { Fingerprint } from '@volact/protocol';

function read(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}

function list(dir: string, file: (name: string) => string, skip: (name: string) => boolean): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => !skip(n))
    .map((n) => read(file(n)))
    .filter((v) => v && !/^0+(:0+)*$/.test(v))
    .sort();
}

/** Linux (and any other Unix): machine-id, /proc and /sys, as volact has always read them. */
export function readLinuxFingerprint(): Fingerprint {
  const cpuinfo = read('/proc/cpuinfo');
  return {
    osId: read('/etc/machine-id') || read('/var/lib/dbus/machine-id') || 'unknown',
    cpu: /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? '',
    board: read('/sys/class/dmi/id/product_uuid') || read('/sys/class/dmi/id/board_serial'),
    disks: list(
      '/sys/block',
      (n) => `/sys/block/${n}/device/serial`,
      (n) => /^(loop|ram|zram|dm-)/.test(n),
    ).concat(
      list(
        '/sys/block',
        (n) => `/sys/block/${n}/device/wwid`,
        (n) => /^(loop|ram|zram|dm-)/.test(n),
      ),
    ),
    nics: list(
      '/sys/class/net',
      (n) => `/sys/class/net/${n}/address`,
      (n) => n === 'lo' || /^(veth|docker|br-|virbr)/.test(n),
    ),
  };
}
