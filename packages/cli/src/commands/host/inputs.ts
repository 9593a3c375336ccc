import { VolactError, parseOfflineBundle, publicKeyFromPem } from '@volact/protocol';
import { defaultStateDir } from '@volact/io';
import { fileLimits, readUserFile } from '../../files.js';

/** Reads a root.pub given on the command line; a bad file is a usage error, not a crash. */
export function readRootPem(file: string): string {
  const pem = readUserFile(file, 'root key or offline bundle', fileLimits.bundle);
  // the publisher's offline bundle carries the root (and what offline activation needs)
  if (parseOfflineBundle(pem)) return pem;
  try {
    publicKeyFromPem(pem);
  } catch {
    throw new VolactError('USAGE', {
      detail: `${file} is neither an Ed25519 public key in PEM form nor an offline bundle`,
    });
  }
  return pem;
}
export const defaultHostDir = () => process.env.VOLACT_HOST_DIR ?? defaultStateDir('host');

/** A whole number from 0 to max given for an option. */
export function numberOption(name: string, text: string | undefined, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) > max)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name, min: 0, max, value: text });
  return Number(text);
}
