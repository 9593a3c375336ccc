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
export type ZoneRecords = {
  domain: string;
  server: string;
  published: DnsRecord[];
  publishedAt: number | null;
  unconfirmed: DnsRecord[];
  sentAt: number | null;
};

/** The same record, whatever its TTL (an add with a new TTL replaces the old one's). */
export function sameRecord(a: DnsRecord, b: DnsRecord): boolean {
  return a.type === b.type && JSON.stringify({ ...a.rr, ttl: 0 }) === JSON.stringify({ ...b.rr, ttl: 0 });
}

/**
 * What an update did, on its event: `published` or `removed` (12294); `refused`, an answer that
 * says nothing was changed, or `unconfirmed`, sent but no answer says either way (12293). Events
 * written before issue 10 have none.
 */
export type EventOutcome = 'published' | 'removed' | 'refused' | 'unconfirmed';

/** A DNS publishing event (12293 failed, 12294 done), kept in the host's database. */
export type DnsEvent = {
  event: 12293 | 12294;
  domain: string;
  server: string;
  rcode: string | null;
  code: string | null;
  message: string;
  fix: string | null;
  outcome: EventOutcome;
};
