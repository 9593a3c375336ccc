import { VolactError } from '@volact/protocol';
import { roleLogger, type RoleLogger, type LogRole } from '@volact/io';

/** `--access-log on|off` of every serve command (a settings-file key and an environment variable too). */
export const accessLogOption = [
  '--access-log <on|off>',
  'one JSON line per answered request in the log, on stderr (on or off)',
  'on',
] as const;

/** The --access-log value; anything but on or off is a USAGE error naming the option. */
export function accessLogOn(value: unknown): boolean {
  const v = String(value ?? 'on').toLowerCase();
  if (v === 'on' || v === 'true') return true;
  if (v === 'off' || v === 'false') return false;
  throw new VolactError('USAGE', { detail: `--access-log ${String(value)}: give on or off` });
}

/**
 * A serve command's log: JSON lines on stderr (stdout is for command output), and a crash's
 * stack as one JSON line too, flushed before the process ends with exit code 1 as Node's would.
 */
export function serverLog(role: LogRole): RoleLogger {
  const log = roleLogger(role);
  process.on('uncaughtException', (err) => {
    log.error({ error: err.stack ?? String(err) }, 'crashed');
    log.flushSync();
    process.exit(1);
  });
  return log;
}

/**
 * SIGINT and SIGTERM: a `stopping` line, `close()`, a `stopped` line, the log written out, exit 0.
 * A second signal while closing is ignored rather than cutting the close short.
 */
export function stopOnSignals(log: RoleLogger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void close()
      .then(
        () => {
          log.info({ signal }, 'stopped');
          return 0;
        },
        (err: unknown) => {
          log.error({ signal, error: err instanceof Error ? err.message : String(err) }, 'stopped with an error');
          return 1;
        },
      )
      // every line written, the one in flight too, before the process ends
      .then((code) => log.drain().then(() => process.exit(code)));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
