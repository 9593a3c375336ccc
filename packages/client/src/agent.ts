import { VolactError, type Clock } from '@volact/protocol';
import type { Client } from './client.js';
import { nextAttemptAt } from './license-state.js';
import { licenseOf } from './stored-license.js';

/**
 * The agent: activates at start, then retries every retry interval until it is activated and
 * renews every renewal interval after that (both intervals as the host last pushed them).
 * `sleep` is injected so tests drive it with a fake clock.
 */
export async function runAgent(
  client: Client,
  clock: Clock,
  opts: { sleep: (ms: number) => Promise<void>; log: (line: string) => void; stop?: () => boolean; pollMs?: number },
): Promise<void> {
  const pollMs = opts.pollMs ?? 60_000;
  let notBefore = 0;
  const first = client.state();
  opts.log(
    JSON.stringify({
      at: new Date(clock.now()).toISOString(),
      agent: 'started',
      machineId: first.machine.id,
      stateDir: client.dir,
    }),
  );
  // directory activation is read again at every start (a removed machine account shows at once),
  // and a guest asks its agent at every start (a VM moved to another host is activated there)
  let startup =
    (first.directory !== null && first.key?.keyClass === 'setup' && first.actType !== 'host') ||
    first.key?.keyClass === 'vm';
  while (!opts.stop?.()) {
    const store = client.open();
    const s = store.state;
    const view = licenseOf(store);
    const now = () => clock.now();
    const atStart = startup;
    if (startup) {
      startup = false;
      notBefore = 0;
      s.lastAttempt = null;
    }
    // a clock set back must not stall the agent (Client.state() does the same for lastAttempt)
    notBefore = Math.min(notBefore, now() + s.intervals.retryMinutes * 60_000);
    // no attempt yet (first start, or just rearmed): due at once, whatever the trusted time says
    const due = Math.max(notBefore, s.lastAttempt ? nextAttemptAt(view, s.lastAttempt, s.intervals) : now());
    // a MAK activation is permanent: nothing to renew while the hardware stays within tolerance
    const permanent = s.key?.keyClass === 'mak' && view.state === 'licensed';
    if (now() >= due && !permanent) {
      try {
        const outcome = await client.activate({ startup: atStart });
        opts.log(
          JSON.stringify({ at: new Date(clock.now()).toISOString(), outcome: outcome.kind, host: outcome.host }),
        );
      } catch (err) {
        const code = err instanceof VolactError ? err.code : 'INTERNAL';
        opts.log(
          JSON.stringify({
            at: new Date(clock.now()).toISOString(),
            outcome: 'error',
            code,
            message: err instanceof Error ? err.message : String(err),
          }),
        );
        if (!(err instanceof VolactError)) throw err;
        // errors before any request was sent (no key, no host) wait a retry interval too
        notBefore = clock.now() + s.intervals.retryMinutes * 60_000;
      }
      continue;
    }
    await opts.sleep(permanent ? pollMs : Math.max(1000, Math.min(due - now(), pollMs)));
  }
}
