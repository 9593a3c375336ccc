import type { Log } from '@volact/io';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

export type CheckpointStats = {
  passes: number;
  drains: number;
  /** Drains given up: a reader's snapshot kept the log from being copied to its end. */
  drainsGivenUp: number;
  maxPassMs: number;
  maxDrainMs: number;
  walFrames: number;
  failed: string | null;
};

/**
 * Checkpoints host.db's write-ahead log on a thread of its own. SQLite's automatic checkpoint
 * runs inside a commit: it copies every page written since the last one into the database and
 * fsyncs it, and every request in that batch waits (with a million machines 60 to 90 ms every
 * 40 MB of log: the host's p99 was 9 times the ceiling's in bench:host). Here a commit only
 * appends to the log, and every `everyMs` the thread copies what was written meanwhile (each
 * page once, however often it was rewritten) and fsyncs, while the host goes on answering.
 *
 * The log must also start over from its beginning, or it grows without end and every append
 * makes the file system allocate new blocks (that cost more than the copying did). SQLite
 * restarts it at the first commit after a checkpoint that left nothing behind, so after each
 * pass a few shorter passes follow; if commits still came in meanwhile, commits are held
 * (queued, not refused) for one last small pass. Durability is unchanged: a commit is in the
 * log before it is answered, and checkpoints fsync as SQLite's own do (synchronous=NORMAL).
 */
export type CheckpointOptions = {
  everyMs: number;
  chain: number;
  maxDrainMs: number;
  giveUpMs: number;
  /** Called as a drain begins, with commits held (for tests and traces). */
  onDrain?: () => void;
};

export class Checkpointer {
  private readonly worker: Worker;
  private running = false;
  private lastPassAt = 0;
  /** A pass reports what was in the log when it began; a commit during it added more. */
  private commitsDuringPass = 0;
  private chained = 0;
  private draining = false;
  private drainStarted = 0;
  private drainTimer: NodeJS.Timeout | undefined;
  /** What the previous pass of a drain had copied: a pass that copies no more cannot finish it. */
  private drainCheckpointed = -1;
  /** No drain before this time: the last one could not finish (a reader held the log). */
  private noDrainUntil = 0;
  private resume: (() => void)[] = [];
  private stopped = false;
  readonly stats: CheckpointStats = {
    passes: 0,
    drains: 0,
    drainsGivenUp: 0,
    maxPassMs: 0,
    maxDrainMs: 0,
    walFrames: 0,
    failed: null,
  };

  constructor(
    private readonly db: Database.Database,
    path: string,
    private readonly log: Log,
    // bench:host at a million machines: every 500 ms with 2 follow-up passes cost the least CPU
    // (250 ms copies hot pages twice as often; 1,000 ms lets the last pass before a restart grow)
    private readonly opts: CheckpointOptions = { everyMs: 500, chain: 2, maxDrainMs: 2000, giveUpMs: 10_000 },
  ) {
    db.pragma('wal_autocheckpoint = 0');
    this.worker = new Worker(new URL('./checkpoint-worker.js', import.meta.url), { workerData: { path } });
    this.worker.unref();
    this.worker.on(
      'message',
      (m: { log?: number; checkpointed?: number; ms?: number; error?: string; stopped?: boolean }) => {
        if (m.stopped) return;
        if (m.error !== undefined) return this.fail(m.error);
        this.passed(m.log!, m.checkpointed!, m.ms!);
      },
    );
    this.worker.on('error', (err) => this.fail(err.message || 'the thread stopped'));
  }

  /** Whether commits must wait: the log is being brought to its end so that it can start over. */
  get paused(): boolean {
    return this.draining;
  }

  /** Runs `fn` once commits may go on. */
  whenResumed(fn: () => void): void {
    if (this.draining) this.resume.push(fn);
    else fn();
  }

  /**
   * Called after each commit. A pass starts at most every `everyMs`: each page written since
   * the last pass is copied once, however often it was written meanwhile (the hot pages of the
   * indexes are written by almost every commit, so passes after every commit would copy them
   * each time and cost the host a sixth of its rate).
   */
  committed(): void {
    if (this.running) this.commitsDuringPass++;
    else if (!this.stopped && !this.stats.failed && performance.now() - this.lastPassAt >= this.opts.everyMs)
      this.pass();
  }

  private pass(): void {
    this.running = true;
    this.commitsDuringPass = 0;
    this.lastPassAt = performance.now();
    this.worker.postMessage('pass');
  }

  private passed(logFrames: number, checkpointed: number, ms: number): void {
    this.running = false;
    this.stats.passes++;
    this.stats.walFrames = logFrames;
    this.stats.maxPassMs = Math.max(this.stats.maxPassMs, ms);
    if (this.stopped) return;
    const caughtUp = logFrames === checkpointed && this.commitsDuringPass === 0;
    if (this.draining) {
      if (caughtUp) this.endDrain();
      // commits are held, so a pass that copied no more than the one before is kept back by a
      // reader's snapshot (a backup, a long report): passes would only spin while commits wait
      else if (checkpointed <= this.drainCheckpointed) this.endDrain(true);
      else {
        this.drainCheckpointed = checkpointed;
        this.pass();
      }
      return;
    }
    if (caughtUp) {
      this.chained = 0;
      return;
    }
    // commits came in during the pass: shorter passes follow, then one with commits held
    if (this.chained++ < this.opts.chain) return this.pass();
    this.chained = 0;
    if (performance.now() < this.noDrainUntil) return;
    this.draining = true;
    this.drainStarted = performance.now();
    this.drainCheckpointed = checkpointed;
    this.stats.drains++;
    // a thread that does not come back (a disk that hangs) must not hold commits for long
    this.drainTimer = setTimeout(() => this.endDrain(true), this.opts.maxDrainMs);
    this.opts.onDrain?.();
    this.pass();
  }

  /**
   * Lets held commits go on. A drain given up (a reader holds the log, or the thread is slow)
   * is not tried again for `giveUpMs`: the log grows meanwhile, as it does under SQLite's own
   * checkpoints while a reader holds it, and commits are not held over and over.
   */
  private endDrain(givenUp = false): void {
    if (!this.draining) return;
    if (givenUp) {
      this.stats.drainsGivenUp++;
      this.noDrainUntil = performance.now() + this.opts.giveUpMs;
    }
    clearTimeout(this.drainTimer);
    this.stats.maxDrainMs = Math.max(this.stats.maxDrainMs, performance.now() - this.drainStarted);
    this.draining = false;
    const waiting = this.resume;
    this.resume = [];
    for (const fn of waiting) fn();
  }

  /** The thread failed: SQLite checkpoints in the commit again, as it did before. */
  private fail(detail: string): void {
    if (this.stats.failed || this.stopped) return;
    this.stats.failed = detail;
    this.running = false;
    this.log.error({ detail }, 'the checkpoint thread failed; checkpoints run in the commit again');
    this.db.pragma('wal_autocheckpoint = 10000');
    this.endDrain();
    void this.worker.terminate();
  }

  /** Stops the thread (its connection closes first, so the host's own close checkpoints the rest). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.endDrain();
    if (this.stats.failed) return;
    await new Promise<void>((resolve) => {
      const done = () => resolve();
      this.worker.once('exit', done);
      this.worker.on('message', (m: { stopped?: boolean }) => m.stopped && void this.worker.terminate());
      this.worker.postMessage('stop');
      setTimeout(() => void this.worker.terminate(), 5000).unref();
    });
  }
}
