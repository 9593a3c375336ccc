import { Worker } from 'node:worker_threads';
import type { Log } from '@volact/io';

/** What the console shows of the tamper-evident log: the last verification's result, or that one runs. */
export type LogState = {
  state: 'verified' | 'tampered' | 'unverified' | 'running';
  checkedAt: string | null;
  records: number | null;
  problem?: string;
};

/**
 * Verifies the host log (as `volact host verify-log` does) in a worker thread, at start and on
 * demand: one run at a time, the last result kept in memory. A run that fails to read the log
 * leaves the state `unverified` with the reason as its problem.
 */
export class LogVerifier {
  private last: LogState = { state: 'unverified', checkedAt: null, records: null };
  private worker: Worker | undefined;
  private stopped = false;

  constructor(
    private readonly dir: string,
    private readonly now: () => number,
    private readonly log: Log,
  ) {}

  get state(): LogState {
    return this.worker ? { ...this.last, state: 'running' } : this.last;
  }

  /** Starts a verification unless one runs; resolves when it ends (tests wait for it). */
  start(): Promise<void> {
    if (this.worker || this.stopped) return Promise.resolve();
    const worker = new Worker(new URL('./log-verify-worker.js', import.meta.url), { workerData: { dir: this.dir } });
    this.worker = worker;
    return new Promise((resolve) => {
      const done = (next: LogState) => {
        if (this.worker !== worker) return;
        this.worker = undefined;
        this.last = next;
        if (next.state === 'tampered') this.log.error({ problem: next.problem }, 'host log verification failed');
        resolve();
      };
      const checkedAt = () => new Date(this.now()).toISOString();
      worker.once('message', (m: { intact?: boolean; records?: number; problem?: string; error?: string }) =>
        done(
          m.error !== undefined
            ? { state: 'unverified', checkedAt: checkedAt(), records: null, problem: m.error }
            : {
                state: m.intact ? 'verified' : 'tampered',
                checkedAt: checkedAt(),
                records: m.records ?? null,
                ...(m.problem ? { problem: m.problem } : {}),
              },
        ),
      );
      worker.once('error', (err) =>
        done({ state: 'unverified', checkedAt: checkedAt(), records: null, problem: err.message }),
      );
      worker.once('exit', () => done({ ...this.last }));
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
