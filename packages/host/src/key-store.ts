import type Database from 'better-sqlite3';

/**
 * The tables a machine that is activated by the authority keeps, in the same shape on an
 * activation host (host keys) and a hypervisor agent (datacenter keys): its keys with their
 * certificates, the catalog that came with them, and its settings.
 */
export const keyTablesSql = `CREATE TABLE host_keys (
     id TEXT PRIMARY KEY, product_key TEXT NOT NULL UNIQUE, partial TEXT NOT NULL, group_number INTEGER NOT NULL,
     installed_at INTEGER NOT NULL, request_id TEXT NOT NULL, certificate TEXT, issuer TEXT, activated_at INTEGER,
     request_answered INTEGER NOT NULL DEFAULT 0);
   CREATE TABLE catalog (id INTEGER PRIMARY KEY CHECK (id = 1), jws TEXT NOT NULL, issuer TEXT NOT NULL);
   CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL);`;

/** An installed host key, as stored. */
export type InstalledKey = {
  id: string;
  productKey: string;
  partial: string;
  groupNumber: number;
  requestId: string;
  certificate: string | null;
  issuer: string | null;
  activatedAt: number | null;
  /** Whether the answer to `requestId` is stored; until then a retry reuses the ID. */
  requestAnswered: boolean;
};

/** A signed document and the certificate of the key that signed it, as stored. */
export type Signed = { jws: string; issuer: string };

type KeyRow = {
  id: string;
  product_key: string;
  partial: string;
  group_number: number;
  request_id: string;
  certificate: string | null;
  issuer: string | null;
  activated_at: number | null;
  request_answered: number;
};
const toKey = (r: KeyRow): InstalledKey => ({
  id: r.id,
  productKey: r.product_key,
  partial: r.partial,
  groupNumber: r.group_number,
  requestId: r.request_id,
  certificate: r.certificate,
  issuer: r.issuer,
  activatedAt: r.activated_at,
  requestAnswered: r.request_answered === 1,
});

/** Keys, catalog and settings (keyTablesSql). */
export class KeyStore {
  constructor(protected readonly db: Database.Database) {}

  /** Throws when the database cannot answer a query (readiness). */
  ping(): void {
    this.db.prepare('SELECT 1').get();
  }

  keys(): InstalledKey[] {
    return (this.db.prepare('SELECT * FROM host_keys ORDER BY installed_at').all() as KeyRow[]).map(toKey);
  }

  /** Whether any key holds a certificate: such a database belongs with its host.key (run-host.ts). */
  hasActivatedKeys(): boolean {
    return this.db.prepare('SELECT 1 FROM host_keys WHERE certificate IS NOT NULL LIMIT 1').get() !== undefined;
  }

  /** A new key for a product group replaces the group's old one; in one transaction, so a crash leaves one of the two, never none or both. */
  installKey(k: {
    id: string;
    productKey: string;
    partial: string;
    groupNumber: number;
    installedAt: number;
    requestId: string;
  }): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM host_keys WHERE group_number = ?').run(k.groupNumber);
      this.db
        .prepare(
          'INSERT INTO host_keys (id, product_key, partial, group_number, installed_at, request_id) VALUES (?, ?, ?, ?, ?, ?)',
        )
        .run(k.id, k.productKey, k.partial, k.groupNumber, k.installedAt, k.requestId);
    })();
  }

  /** Removes the key with this ID or these last five characters; how many went. */
  removeKey(which: string): number {
    return this.db.prepare('DELETE FROM host_keys WHERE id = ? OR partial = ?').run(which, which.toUpperCase()).changes;
  }

  /** A new request ID for a reactivation: until its answer is stored, retries reuse it. */
  newRequestId(keyId: string, requestId: string): void {
    this.db.prepare('UPDATE host_keys SET request_id = ?, request_answered = 0 WHERE id = ?').run(requestId, keyId);
  }

  /**
   * Stores a key's certificate (its request is answered) and, when given, the catalog that came
   * with it, in one transaction: a host never holds a certificate for editions it cannot name.
   * The caller says whether the catalog is newer than the one in force: the table keeps no
   * serial, and only this process writes here (HOST_ALREADY_RUNNING), so its view is current.
   */
  saveCertificate(keyId: string, cert: Signed, at: number, catalog: Signed | undefined): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'UPDATE host_keys SET certificate = ?, issuer = ?, activated_at = ?, request_answered = 1 WHERE id = ?',
        )
        .run(cert.jws, cert.issuer, at, keyId);
      if (catalog) this.saveCatalog(catalog);
    })();
  }

  /** Puts a catalog in force (the caller verified it and checked that it is newer: -upd-catalog). */
  saveCatalog(catalog: Signed): void {
    this.db
      .prepare(
        'INSERT INTO catalog (id, jws, issuer) VALUES (1, ?, ?) ON CONFLICT(id) DO UPDATE SET jws = excluded.jws, issuer = excluded.issuer',
      )
      .run(catalog.jws, catalog.issuer);
  }

  catalog(): Signed | undefined {
    return this.db.prepare('SELECT jws, issuer FROM catalog WHERE id = 1').get() as Signed | undefined;
  }

  /** The stored settings by name (settings.ts fills in the defaults). */
  settings(): Record<string, unknown> {
    return Object.fromEntries(
      (this.db.prepare('SELECT name, value FROM settings').all() as { name: string; value: string }[]).map((r) => [
        r.name,
        JSON.parse(r.value) as unknown,
      ]),
    );
  }

  /** Stores a setting's value; the host's store chains the change in its log as well (HostStore.writeSetting). */
  protected storeSetting(name: string, value: unknown): void {
    this.db
      .prepare(
        'INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value',
      )
      .run(name, JSON.stringify(value));
  }
}
