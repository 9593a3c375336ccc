import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { VolactError, type Fingerprint } from '@volact/protocol';

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

/**
 * Reads this machine's fingerprint from the OS. VOLACT_FINGERPRINT_FILE (a JSON Fingerprint)
 * replaces it: for containers whose /sys tells nothing, and for tests that play many machines.
 */
export function readFingerprint(env: NodeJS.ProcessEnv = process.env): Fingerprint {
  const file = env.VOLACT_FINGERPRINT_FILE;
  if (file) {
    try {
      const fp = JSON.parse(readFileSync(file, 'utf8')) as Fingerprint;
      if (typeof fp.osId !== 'string' || !Array.isArray(fp.disks) || !Array.isArray(fp.nics))
        throw new Error('needs osId, cpu, board, disks, nics');
      return {
        osId: fp.osId,
        cpu: String(fp.cpu ?? ''),
        board: String(fp.board ?? ''),
        disks: fp.disks.map(String),
        nics: fp.nics.map(String),
      };
    } catch (err) {
      throw new VolactError('STATE_CORRUPT', { file, detail: err instanceof Error ? err.message : String(err) });
    }
  }
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
