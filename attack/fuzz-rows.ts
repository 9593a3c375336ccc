/**
 * Row counts of every table of both databases, read through read-only connections of our own
 * (the servers keep theirs), and the check that a change is explained by accepted answers.
 */
import Database from 'better-sqlite3';

export type Rows = Record<string, number>;

export class RowCounter {
  private readonly dbs: { prefix: string; db: Database.Database; tables: string[] }[];

  constructor(files: Record<string, string>) {
    this.dbs = Object.entries(files).map(([prefix, file]) => {
      const db = new Database(file, { readonly: true, fileMustExist: true });
      const tables = (
        db
          .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
          .all() as { name: string }[]
      ).map((r) => r.name);
      return { prefix, db, tables };
    });
  }

  count(): Rows {
    const out: Rows = {};
    for (const { prefix, db, tables } of this.dbs) {
      for (const t of tables)
        out[`${prefix}.${t}`] = (db.prepare(`SELECT COUNT(*) AS n FROM "${t}"`).get() as { n: number }).n;
    }
    return out;
  }

  close(): void {
    for (const { db } of this.dbs) db.close();
  }
}

export type Unexplained = { table: string; before: number; after: number; allowed: number };

/** Tables whose count moved by more than the accepted answers allow (a 4xx allows nothing). */
export function unexplained(before: Rows, after: Rows, allowance: Record<string, number>): Unexplained[] {
  const out: Unexplained[] = [];
  for (const table of Object.keys({ ...before, ...after })) {
    const b = before[table] ?? 0;
    const a = after[table] ?? 0;
    const allowed = allowance[table] ?? 0;
    if (Math.abs(a - b) > allowed) out.push({ table, before: b, after: a, allowed });
  }
  return out;
}
