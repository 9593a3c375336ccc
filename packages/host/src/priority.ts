import { readdirSync } from 'node:fs';
import { setPriority } from 'node:os';
import { VolactError } from '@volact/protocol';
import type { ProcessPriority } from './settings.js';

/** The niceness of each `-spri`/`-cpri` setting: low is 10, what `nice` gives by default. */
export const niceness: Record<ProcessPriority, number> = { normal: 0, low: 10 };

/** The threads of this process: on Linux setpriority(2) with a PID acts on that one thread only. */
function threads(): number[] {
  try {
    return readdirSync('/proc/self/task').map(Number);
  } catch {
    return [process.pid]; // elsewhere (Windows, macOS) the PID names the whole process
  }
}

/**
 * Sets this process's priority: every thread (the checkpoint worker and libuv's pool too, so the
 * host's disk work also yields). Threads made later inherit it. A process that is not root may
 * lower its priority but not raise it back past its nice limit: PRIORITY_UNAVAILABLE.
 */
export function applyPriority(
  priority: ProcessPriority,
  set: (pid: number, nice: number) => void = setPriority,
  list: () => number[] = threads,
): void {
  for (const tid of list()) {
    try {
      set(tid, niceness[priority]);
    } catch (err) {
      // Node's SystemError carries the errno name in `info`
      const code = (err as { info?: { code?: string } }).info?.code ?? (err as NodeJS.ErrnoException).code ?? '';
      if (code === 'ESRCH') continue; // a thread that ended meanwhile
      throw new VolactError('PRIORITY_UNAVAILABLE', {
        priority,
        reason: code || (err as Error).message,
      });
    }
  }
}
