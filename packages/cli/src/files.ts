import { readFileSync } from 'node:fs';
import { VolactError } from '@volact/protocol';

/** A file named on the command line; one that cannot be read is USAGE, naming it and what it is for. */
export function readUserFile(path: string, what?: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new VolactError('USAGE', { detail: `cannot read ${what ? `the ${what} file ` : ''}${path} (${(err as NodeJS.ErrnoException).code ?? String(err)})` });
  }
}
