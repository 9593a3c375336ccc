import type { Log } from '@volact/io';
/**
 * SIGHUP (systemctl reload) for a service. Node's default for SIGHUP ends the process, and
 * systemd counts that as a clean exit (no restart), so a reload that comes while a service is
 * still starting must not kill it: bin/volact.js (or main.ts, run directly) catches it as soon as
 * a `serve` command is named, and the reload runs once the service is up.
 */
type Hangup = { pending: boolean; reload: (() => void) | undefined };
const key = Symbol.for('volact.hangup');

export function catchHangup(): void {
  const g = globalThis as unknown as Record<symbol, Hangup | undefined>;
  if (g[key]) return;
  const hangup: Hangup = (g[key] = { pending: false, reload: undefined });
  process.on('SIGHUP', () => {
    if (hangup.reload) hangup.reload();
    else hangup.pending = true;
  });
}

/** Returns the function to call with the service's reload once it runs (none: nothing to reload). */
export function reloadOnHangup(log: Log) {
  catchHangup();
  const hangup = (globalThis as unknown as Record<symbol, Hangup>)[key]!;
  return (fn: () => void = () => log.info({}, 'reload: nothing to reload')) => {
    hangup.reload = fn;
    if (hangup.pending) {
      hangup.pending = false;
      fn();
    }
  };
}
