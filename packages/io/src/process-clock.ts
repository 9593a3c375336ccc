import { readFileSync } from 'node:fs';
import { VolactError, systemClock, testModeAllowed, type Clock } from '@volact/protocol';

/**
 * The clock for a volact process: the system clock, or, under the test harness only
 * (NODE_ENV=test), the time written in the file named by VOLACT_TEST_CLOCK (an ISO date or
 * epoch milliseconds), read on every call so a test can move time for running processes.
 */
export function processClock(env: NodeJS.ProcessEnv = process.env): Clock {
  const file = env.VOLACT_TEST_CLOCK;
  if (!file) return systemClock;
  if (!testModeAllowed(env)) throw new VolactError('FAKE_CLOCK_REFUSED');
  return {
    now() {
      const text = readFileSync(file, 'utf8').trim();
      const t = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
      if (!Number.isFinite(t)) throw new Error(`test clock file ${file} holds no time`);
      return t;
    },
  };
}
