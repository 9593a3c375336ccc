import { createHash } from 'node:crypto';
import { MINUTE, VolactError, type Clock } from '@volact/protocol';
import type { AuthorityStore } from './store.js';

/**
 * Requests a minute on the public activation endpoints, and console logins a minute from one
 * address (`perLogin`, default 20); 0 turns a limit off.
 */
export type RateLimits = { perAddress: number; perKey: number; perLogin?: number };
export const defaultRateLimits: RateLimits = { perAddress: 120, perKey: 30, perLogin: 20 };
const DEFAULT_LOGINS = 20;

/**
 * Fixed one-minute windows counted in the shared store, per client address and per product
 * key (hashed), so keys cannot be guessed by brute force, not even spread over several nodes.
 */
export class RateLimiter {
  private hits = 0;

  constructor(
    private readonly store: AuthorityStore,
    private readonly clock: Clock,
    private readonly limits: RateLimits = defaultRateLimits,
    /** Told each refusal (metrics.ts counts them). */
    private readonly refused: (limit: 'address' | 'key') => void = () => undefined,
  ) {}

  /** Whole seconds until the window ends and frees a slot (at least 1): the Retry-After header. */
  private secondsLeft(window: number): number {
    return Math.max(1, Math.ceil((window + MINUTE - this.clock.now()) / 1000));
  }

  async check(address: string, key: string): Promise<void> {
    await this.checkAddress(address);
    await this.checkKey(key);
  }

  async checkAddress(address: string): Promise<void> {
    const window = Math.floor(this.clock.now() / MINUTE) * MINUTE;
    if (this.limits.perAddress > 0 && (await this.store.hit(`addr:${address}`, window)) > this.limits.perAddress) {
      this.refused('address');
      throw new VolactError('RATE_LIMITED', {
        what: `address ${address}`,
        limit: this.limits.perAddress,
        retryAfter: this.secondsLeft(window),
      });
    }
  }

  /** A console login from this address: every attempt counts, in a bucket of its own. */
  async checkLogin(address: string): Promise<void> {
    const window = Math.floor(this.clock.now() / MINUTE) * MINUTE;
    const limit = this.limits.perLogin ?? DEFAULT_LOGINS;
    if (limit > 0 && (await this.store.hit(`login:${address}`, window)) > limit) {
      this.refused('address');
      throw new VolactError('RATE_LIMITED', {
        what: `console logins from ${address}`,
        limit,
        retryAfter: this.secondsLeft(window),
      });
    }
  }

  async checkKey(key: string): Promise<void> {
    const window = Math.floor(this.clock.now() / MINUTE) * MINUTE;
    const normalized = key.toUpperCase().replace(/[\s-]/g, '');
    const keyBucket = `key:${createHash('sha256').update(normalized).digest('base64url').slice(0, 22)}`;
    if (this.limits.perKey > 0 && (await this.store.hit(keyBucket, window)) > this.limits.perKey) {
      this.refused('key');
      throw new VolactError('RATE_LIMITED', {
        what: 'this product key',
        limit: this.limits.perKey,
        retryAfter: this.secondsLeft(window),
      });
    }
    if (++this.hits % 1000 === 0) await this.store.pruneRateLimits(window - 10 * MINUTE);
  }
}
