import {
  chmodSync,
  closeSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';
import { VolactError } from '@volact/protocol';
import { dirname, basename, join, resolve, sep } from 'node:path';

/** Write to a temp file, fsync, rename: readers see the old file or the new one, never half. */
export function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', mode);
  try {
    fchmodSync(fd, mode); // the mode asked for, whatever the umask: public files must stay readable
    writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/**
 * mkdir -p, one component at a time, so a failure is an error and never a loop: Node's
 * recursive mkdir spins at 100 % CPU under /proc, where mkdir answers ENOENT for a parent that
 * exists. Throws the errno error of the component that cannot be made (ENOTDIR when a
 * component is a file). The directories it creates get `mode`.
 */
export function makeDir(path: string, mode = 0o700): void {
  const parts = resolve(path).split(sep).filter(Boolean);
  let at = '';
  for (const part of parts) {
    at += sep + part;
    try {
      mkdirSync(at, { mode });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (!statSync(at).isDirectory()) throw Object.assign(new Error(`${at} is not a directory`), { code: 'ENOTDIR' });
    }
  }
}

/**
 * A role's private state directory: made if missing, and set to 0700 on every start (its keys
 * and databases are only for the role and its administrators). STATE_UNAVAILABLE names the
 * directory and why it cannot be used.
 */
export function makeStateDir(dir: string): void {
  try {
    makeDir(dir, 0o700);
    chmodSync(dir, 0o700);
  } catch (err) {
    throw new VolactError('STATE_UNAVAILABLE', { dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
}

/**
 * Reads at most `limit` + 1 bytes of a file and says whether there was more: devices
 * (/dev/zero) and pipes never end, and a size from stat means nothing for them.
 */
export function readFileBounded(path: string, limit: number): { data: Buffer; tooLarge: boolean } {
  const fd = openSync(path, 'r');
  try {
    // in chunks, not one buffer of `limit`: a 16 MiB allocation per small state file made
    // readLicense spend most of its time collecting garbage
    const chunks: Buffer[] = [];
    let size = 0;
    while (size <= limit) {
      const chunk = Buffer.allocUnsafe(Math.min(64 * 1024, limit + 1 - size));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      size += n;
    }
    const data = Buffer.concat(chunks, size);
    return { data: data.subarray(0, Math.min(size, limit)), tooLarge: size > limit };
  } finally {
    closeSync(fd);
  }
}
