import { VolactError } from './errors.js';

/** Every time in volact comes from a Clock, so tests can walk through 180 days in milliseconds. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** True only when the process runs under the test harness (NODE_ENV=test). */
export function testModeAllowed(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NODE_ENV === 'test';
}

/** A clock the caller moves by hand; refuses to exist outside test mode. */
export class ManualClock implements Clock {
  private t: number;
  constructor(start: number = Date.UTC(2026, 0, 1), env: NodeJS.ProcessEnv = process.env) {
    if (!testModeAllowed(env)) throw new VolactError('FAKE_CLOCK_REFUSED');
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  set(t: number): void {
    this.t = t;
  }
  advance(ms: number): void {
    this.t += ms;
  }
}

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
