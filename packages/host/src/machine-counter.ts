import type Database from 'better-sqlite3';
import { HOUR } from '@volact/protocol';

/**
 * Counts distinct machines seen in the last 30 days without scanning the machine table:
 * machines are tallied per hour of their last request (count_buckets, kept in the same
 * transaction as the machine rows); the count is the sum of whole hours in the window plus
 * an indexed look at the one hour the window's edge cuts through.
 */
export class MachineCounter {
  private readonly buckets = new Map<number, number>();
  private readonly dirty = new Set<number>();
  private readonly edge: Database.Statement<[number, number], { n: number }>;
  private readonly save: Database.Statement<[number, number]>;
  private readonly drop: Database.Statement<[number]>;

  constructor(
    private readonly db: Database.Database,
    private readonly windowMs: number,
  ) {
    this.reload();
    this.edge = db.prepare('SELECT COUNT(*) AS n FROM machines WHERE last_seen >= ? AND last_seen < ?');
    this.save = db.prepare(
      'INSERT INTO count_buckets (hour, n) VALUES (?, ?) ON CONFLICT(hour) DO UPDATE SET n = excluded.n',
    );
    this.drop = db.prepare('DELETE FROM count_buckets WHERE hour < ?');
  }

  /** Reads the stored tallies again: after a rolled-back batch, memory must match the file. */
  reload(): void {
    this.buckets.clear();
    this.dirty.clear();
    for (const row of this.db.prepare('SELECT hour, n FROM count_buckets').all() as { hour: number; n: number }[])
      this.buckets.set(row.hour, row.n);
  }

  cutoff(now: number): number {
    return now - this.windowMs;
  }

  /** Machines whose last request is at or after now − window. */
  count(now: number): number {
    const cutoff = this.cutoff(now);
    const edgeHour = Math.floor(cutoff / HOUR);
    let n = 0;
    for (const [hour, k] of this.buckets) if (hour > edgeHour) n += k;
    return n + this.edge.get(cutoff, (edgeHour + 1) * HOUR)!.n;
  }

  /** Records that a machine's last request moved from `before` (or nowhere) to `now`. */
  moved(before: number | undefined, now: number): void {
    if (before !== undefined) this.bump(Math.floor(before / HOUR), -1);
    this.bump(Math.floor(now / HOUR), 1);
  }

  private bump(hour: number, by: number): void {
    const n = (this.buckets.get(hour) ?? 0) + by;
    if (n <= 0 && by < 0 && !this.buckets.has(hour)) return; // pruned already
    this.buckets.set(hour, Math.max(0, n));
    this.dirty.add(hour);
  }

  /** Writes changed buckets; call inside the batch's transaction. Drops hours long gone. */
  flush(now: number): void {
    for (const hour of this.dirty) this.save.run(hour, this.buckets.get(hour) ?? 0);
    this.dirty.clear();
    const oldest = Math.floor(this.cutoff(now) / HOUR) - 1;
    let pruned = false;
    for (const hour of this.buckets.keys()) {
      if (hour < oldest) {
        this.buckets.delete(hour);
        pruned = true;
      }
    }
    if (pruned) this.drop.run(oldest);
  }
}
