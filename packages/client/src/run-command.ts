import { spawnSync } from 'node:child_process';
import { VolactError } from '@volact/protocol';

/** Runs a command and returns what it printed; throws FINGERPRINT_UNAVAILABLE when it cannot. */
export type RunCommand = (file: string, args: readonly string[], timeoutMs: number) => string;

/** The most a fingerprint command may print: far above what any of them prints on a real machine. */
const OUTPUT_LIMIT = 8 * 1024 * 1024;

/**
 * The one way the fingerprint readers run a command: no shell, a time limit, no console window
 * on Windows. A command that cannot start, times out or fails is an error, never an empty
 * answer: an empty answer would read as other hardware (or, for the OS identity, a cloned
 * image, which gives the machine a new ID).
 */
export const runCommand: RunCommand = (file, args, timeoutMs) => {
  const r = spawnSync(file, args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    windowsHide: true,
    maxBuffer: OUTPUT_LIMIT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const command = [file, ...args].join(' ');
  if (r.error) {
    const timedOut = (r.error as NodeJS.ErrnoException).code === 'ETIMEDOUT';
    const reason = timedOut ? `it did not finish within ${timeoutMs} ms` : r.error.message;
    throw new VolactError('FINGERPRINT_UNAVAILABLE', { command, reason });
  }
  if (r.status !== 0) {
    const said = (r.stderr || r.stdout || '').trim().split(/\r?\n/)[0] ?? '';
    const reason = `it exited with ${r.status ?? r.signal}${said ? `: ${said}` : ''}`;
    throw new VolactError('FINGERPRINT_UNAVAILABLE', { command, reason });
  }
  return r.stdout;
};
