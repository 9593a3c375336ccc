import type Database from 'better-sqlite3';

/**
 * What an update did, on its event: `published` or `removed` (12294); `refused`, an answer that
 * says nothing was changed, or `unconfirmed`, sent but no answer says either way (12293). Events
 * written before issue 10 have none.
 */
export type EventOutcome = 'published' | 'removed' | 'refused' | 'unconfirmed';

export type DnsEvent = { event: 12293 | 12294; domain: string; server: string; rcode: string | null; code: string | null; message: string; fix: string | null; outcome: EventOutcome };

/** The DNS publishing events (12293 failed, 12294 done), kept in the host's database. */
export class DnsEvents {
  constructor(private readonly db: Database.Database) {}

  add(at: number, e: DnsEvent): void {
    this.db
      .prepare('INSERT INTO dns_events (at, event, domain, server, rcode, code, message, fix, outcome) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(at, e.event, e.domain, e.server, e.rcode, e.code, e.message, e.fix, e.outcome);
  }

  prune(before: number): void {
    this.db.prepare('DELETE FROM dns_events WHERE at < ?').run(before);
  }

  /** The newest `limit` events, oldest first. */
  list(limit: number) {
    return (this.db.prepare('SELECT * FROM (SELECT * FROM dns_events ORDER BY id DESC LIMIT ?) ORDER BY id').all(limit) as Record<string, unknown>[]).map((r) => ({
      id: r.id as number,
      event: r.event as number,
      at: new Date(r.at as number).toISOString(),
      domain: r.domain as string,
      server: r.server as string,
      rcode: r.rcode as string | null,
      code: r.code as string | null,
      message: r.message as string,
      fix: r.fix as string | null,
      outcome: (r.outcome as EventOutcome | null) ?? null,
    }));
  }
}
