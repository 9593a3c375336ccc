import type Database from 'better-sqlite3';
import type { AddressRecord, SrvRecord } from './dns-update.js';

/** One record a host puts in a zone, as it is sent in an update. */
export type DnsRecord = { type: 'SRV'; rr: SrvRecord } | { type: 'A' | 'AAAA'; rr: AddressRecord };

/**
 * What this host may have in one zone, kept apart by what the DNS server said (issue 10):
 * - `published`: added, and the server confirmed it with a signed NOERROR; it stays here until
 *   a removal is confirmed the same way;
 * - `unconfirmed`: sent in an update whose answer never came (a timeout, a network error, an
 *   unsigned or SERVFAIL answer), so it may or may not be in the zone. It is never shown as
 *   published, but the next publication and `host unpublish` delete it too.
 * A record the server definitely refused is in neither: a refused update changes nothing.
 */
export type ZoneRecords = { domain: string; server: string; published: DnsRecord[]; publishedAt: number | null; unconfirmed: DnsRecord[]; sentAt: number | null };

/** The same record, whatever its TTL (an add with a new TTL replaces the old one's). */
export function sameRecord(a: DnsRecord, b: DnsRecord): boolean {
  return a.type === b.type && JSON.stringify({ ...a.rr, ttl: 0 }) === JSON.stringify({ ...b.rr, ttl: 0 });
}

type Row = { domain: string; server: string; published: string; published_at: number | null; unconfirmed: string; sent_at: number | null };

const fromRow = (r: Row): ZoneRecords => ({
  domain: r.domain,
  server: r.server,
  published: JSON.parse(r.published) as DnsRecord[],
  publishedAt: r.published_at,
  unconfirmed: JSON.parse(r.unconfirmed) as DnsRecord[],
  sentAt: r.sent_at,
});

/** The host's memory of its own records, one row per zone (table dns_records). */
export class DnsRecords {
  constructor(private readonly db: Database.Database) {}

  all(): ZoneRecords[] {
    return (this.db.prepare('SELECT * FROM dns_records ORDER BY domain').all() as Row[]).map(fromRow);
  }

  get(domain: string): ZoneRecords | undefined {
    const row = this.db.prepare('SELECT * FROM dns_records WHERE domain = ?').get(domain) as Row | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Stores one zone's memory; a zone with nothing left in it is forgotten. */
  put(z: ZoneRecords): void {
    if (z.published.length === 0 && z.unconfirmed.length === 0) {
      this.db.prepare('DELETE FROM dns_records WHERE domain = ?').run(z.domain);
      return;
    }
    this.db
      .prepare(
        `INSERT INTO dns_records (domain, server, published, published_at, unconfirmed, sent_at) VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT(domain) DO UPDATE SET server = excluded.server, published = excluded.published, published_at = excluded.published_at,
           unconfirmed = excluded.unconfirmed, sent_at = excluded.sent_at`,
      )
      .run(z.domain, z.server, JSON.stringify(z.published), z.published.length ? z.publishedAt : null, JSON.stringify(z.unconfirmed), z.unconfirmed.length ? z.sentAt : null);
  }
}
