import { readFileSync } from 'node:fs';
import { VolactError, type Fingerprint } from '@volact/protocol';
import { readLinuxFingerprint } from './fingerprint-linux.js';
import { readMacFingerprint } from './fingerprint-macos.js';
import { readWindowsFingerprint } from './fingerprint-windows.js';
import { runCommand, type RunCommand } from './run-command.js';

/** Where a machine's fingerprint comes from: one reader per platform, the same Fingerprint shape. */
export type FingerprintBackend = { readonly name: string; read(): Fingerprint };

/** What a backend may use, injectable so tests can play any platform with recorded outputs. */
export type FingerprintDeps = { platform?: NodeJS.Platform; run?: RunCommand };

/** The reader for a platform: Windows and macOS have theirs; Linux's reads every other Unix too. */
export function fingerprintBackend(
  platform: NodeJS.Platform,
  run: RunCommand = runCommand,
  env: NodeJS.ProcessEnv = process.env,
): FingerprintBackend {
  switch (platform) {
    case 'win32':
      return { name: 'windows', read: () => readWindowsFingerprint(run, env) };
    case 'darwin':
      return { name: 'macos', read: () => readMacFingerprint(run) };
    default:
      return { name: 'linux', read: readLinuxFingerprint };
  }
}

function readFingerprintFile(file: string): Fingerprint {
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

/**
 * Reads this machine's fingerprint from the OS. VOLACT_FINGERPRINT_FILE (a JSON Fingerprint)
 * replaces it on every platform: for containers whose /sys tells nothing, machines where the
 * readers' commands may not run, and tests that play many machines.
 */
export function readFingerprint(env: NodeJS.ProcessEnv = process.env, deps: FingerprintDeps = {}): Fingerprint {
  const file = env.VOLACT_FINGERPRINT_FILE;
  if (file) return readFingerprintFile(file);
  return fingerprintBackend(deps.platform ?? process.platform, deps.run, env).read();
}
