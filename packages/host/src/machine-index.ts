import type Database from 'better-sqlite3';

const EMPTY = -1;
const NONE: readonly number[] = Object.freeze([]);

/**
 * Where each machine's row is, by the 48-bit keyed hash of its ID, held in memory: an
 * open-addressing table of two Float64Arrays (16 bytes a slot, at most half full: 32 MB for a
 * million machines), read from the machine table at start (about half a second for a million).
 *
 * Why not an index in SQLite: machine IDs are random, so every new machine would land on a
 * random leaf of it. That leaf is read from the file, written to the log at the commit and
 * copied again at the next checkpoint: with a million machines, 12 µs of the host's 98 for
 * each activation (bench:host). With this table a new machine only appends to the machine and
 * event tables. Two IDs with the same hash are kept apart in `collided` (at a million machines
 * the chance of any pair is about 1 in 500); the row itself confirms the ID.
 */
export class MachineIndex {
  private keys: Float64Array;
  private rows: Float64Array;
  private used = 0;
  /** Hashes shared by several machines: every row but the one in the table. */
  private readonly collided = new Map<number, number[]>();

  constructor(capacity = 1024) {
    const size = 2 ** Math.ceil(Math.log2(Math.max(16, capacity * 2)));
    this.keys = new Float64Array(size).fill(EMPTY);
    this.rows = new Float64Array(size);
  }

  /**
   * Reads every machine's hash and row from the machine table, in one read transaction: the
   * hashes plucked in row order (a column plucked into an array reads several times faster than
   * rows of two columns), and the rows too unless they are numbered without gaps, as they are
   * when no row was ever deleted (0.5 s for 1.3 million machines).
   */
  static load(db: Database.Database): MachineIndex {
    return db.transaction(() => {
      const hashes = db.prepare('SELECT id_hash FROM machines ORDER BY id').pluck().all() as number[];
      // the ends of the table, each its own query: SQLite reads a lone min() or max() from the
      // B-tree's edge, but scans the table for both at once, and for a count
      const first = db.prepare('SELECT min(id) FROM machines').pluck().get() as number | null;
      const last = db.prepare('SELECT max(id) FROM machines').pluck().get() as number | null;
      const ids =
        hashes.length > 0 && last! - first! + 1 === hashes.length
          ? null
          : (db.prepare('SELECT id FROM machines ORDER BY id').pluck().all() as number[]);
      const index = new MachineIndex(hashes.length);
      for (let i = 0; i < hashes.length; i++) index.add(hashes[i]!, ids ? ids[i]! : first! + i);
      return index;
    })();
  }

  get size(): number {
    return this.used + [...this.collided.values()].reduce((n, rows) => n + rows.length, 0);
  }

  private slot(hash: number): number {
    const mask = this.keys.length - 1;
    let i = (hash >>> 0) & mask; // the hash is uniform: its low 32 bits are as good as any
    while (this.keys[i] !== EMPTY && this.keys[i] !== hash) i = (i + 1) & mask;
    return i;
  }

  /** The rows whose machine ID has this hash (almost always none or one). */
  rowsOf(hash: number): readonly number[] {
    const i = this.slot(hash);
    if (this.keys[i] === EMPTY) return NONE;
    const more = this.collided.get(hash);
    return more ? [this.rows[i]!, ...more] : [this.rows[i]!];
  }

  add(hash: number, row: number): void {
    const i = this.slot(hash);
    if (this.keys[i] === hash) {
      const more = this.collided.get(hash);
      if (more) more.push(row);
      else this.collided.set(hash, [row]);
      return;
    }
    this.keys[i] = hash;
    this.rows[i] = row;
    if (++this.used * 2 > this.keys.length) this.grow();
  }

  /** Takes back `add(hash, row)` (a batch whose transaction rolled back). */
  remove(hash: number, row: number): void {
    const more = this.collided.get(hash);
    const i = this.slot(hash);
    if (this.keys[i] !== hash) return;
    if (more) {
      if (this.rows[i] === row) this.rows[i] = more.pop()!;
      else more.splice(more.indexOf(row), 1);
      if (more.length === 0) this.collided.delete(hash);
      return;
    }
    if (this.rows[i] !== row) return;
    // backward-shift deletion keeps every probe sequence unbroken
    const mask = this.keys.length - 1;
    let hole = i;
    for (let j = (i + 1) & mask; this.keys[j] !== EMPTY; j = (j + 1) & mask) {
      const home = (this.keys[j]! >>> 0) & mask;
      if (((j - home) & mask) >= ((j - hole) & mask)) {
        this.keys[hole] = this.keys[j]!;
        this.rows[hole] = this.rows[j]!;
        hole = j;
      }
    }
    this.keys[hole] = EMPTY;
    this.used--;
  }

  private grow(): void {
    const { keys, rows } = this;
    this.keys = new Float64Array(keys.length * 2).fill(EMPTY);
    this.rows = new Float64Array(keys.length * 2);
    this.used = 0;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] === EMPTY) continue;
      const j = this.slot(keys[i]!);
      this.keys[j] = keys[i]!;
      this.rows[j] = rows[i]!;
      this.used++;
    }
  }
}
