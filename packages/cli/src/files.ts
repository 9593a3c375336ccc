import { VolactError } from '@volact/protocol';
import { readFileBounded, writeFileAtomic } from '@volact/io';

const MiB = 1024 * 1024;

/** The most a file named on the command line may hold, by what it is for. */
export const fileLimits = {
  catalog: 4 * MiB,
  /** an offline bundle carries the signed catalog */
  bundle: 8 * MiB,
  /** keys, certificates, passwords, tokens */
  small: MiB,
  /** installation IDs for a bulk confirmation, one a line */
  idList: 16 * MiB,
} as const;

/**
 * A file named on the command line, read with its limit enforced while reading (devices and
 * pipes included): one that cannot be read is USAGE, one that is too large FILE_TOO_LARGE,
 * both naming the file and what it is for.
 */
export function readUserFile(path: string, what: string, limit: number = fileLimits.small): string {
  let read;
  try {
    read = readFileBounded(path, limit);
  } catch (err) {
    throw new VolactError('USAGE', {
      detail: `cannot read the ${what} file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    });
  }
  if (read.tooLarge) throw new VolactError('FILE_TOO_LARGE', { what, file: path, limit });
  return read.data.toString('utf8');
}

/**
 * Writes a file named on the command line whole or not at all: one that cannot be written (a
 * directory that does not exist, no permission) is USAGE naming the file, what it is for and why.
 */
export function writeUserFile(path: string, what: string, text: string, mode = 0o644): void {
  try {
    writeFileAtomic(path, text, mode);
  } catch (err) {
    throw new VolactError('USAGE', {
      detail: `cannot write the ${what} file ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})`,
    });
  }
}
