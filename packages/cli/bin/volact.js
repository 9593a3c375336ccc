#!/usr/bin/env node
// Committed entry point, so npm links the `volact` bin at install time, before the build.
// A service catches SIGHUP (systemctl reload) before anything loads: Node's default would end it
// while it starts (process-signals.ts runs the reload once the service is up).
if (process.argv[3] === 'serve') {
  const hangup = (globalThis[Symbol.for('volact.hangup')] = { pending: false, reload: undefined });
  process.on('SIGHUP', () => (hangup.reload ? hangup.reload() : (hangup.pending = true)));
}
await import('../dist/main.js');
