import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  VolactError,
  keyPairFromPem,
  publicKeyFromPem,
  rawPublicKey,
  rootFromKey,
  verifyHostCert,
  type KeyPair,
  type Root,
} from '@volact/protocol';
import { KeyStore } from './key-store.js';
import { readOrCorrupt } from './run-host.js';

/** A host's state directory opened for reading, beside a running host or a stopped one. */
export type HostDirReader = {
  db: Database.Database;
  /** DIR/host.db and DIR/host.key */
  file: string;
  keyFile: string;
  keyPair: KeyPair;
  /** The root pinned in DIR/root.pub. */
  roots(): Root[];
  /** The certificates the host holds, each verified to the pinned root at `at`, and their text. */
  certified(at: number): { certificate: string; issuer: string; cert: ReturnType<typeof verifyHostCert>['cert'] }[];
  close(): void;
};

/**
 * Opens DIR/host.db read-only (WAL gives a consistent snapshot while the host writes) with the
 * host's own key from DIR/host.key: what `host verify-log` and `host usage-report` read. A
 * directory without them is `missing` (each command names it its own way); a certificate that
 * names another key than host.key is `mismatch`.
 */
export function openHostDir(
  dir: string,
  missing: (detail: string) => VolactError,
  mismatch: (keyFile: string, detail: string) => VolactError,
): HostDirReader {
  const file = join(dir, 'host.db');
  const keyFile = join(dir, 'host.key');
  if (!existsSync(file)) throw missing('there is no host.db there');
  if (!existsSync(keyFile)) throw missing(`${keyFile} is missing`);
  const keyPair = readOrCorrupt(keyFile, (text) => keyPairFromPem('host', text));
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file, detail: err instanceof Error ? err.message : String(err) });
  }
  let roots: Root[] | undefined;
  const pinned = () => (roots ??= [rootFromKey(readOrCorrupt(join(dir, 'root.pub'), publicKeyFromPem))]);
  return {
    db,
    file,
    keyFile,
    keyPair,
    roots: pinned,
    certified(at) {
      const own = rawPublicKey(keyPair.publicKey);
      return new KeyStore(db).keys().flatMap((k) => {
        if (!k.certificate || !k.issuer) return [];
        const { cert } = verifyHostCert(k.certificate, k.issuer, pinned(), at);
        if (cert.hostPublicKey !== own)
          throw mismatch(keyFile, `the certificate of host key ${k.id} names host ${cert.hostId}`);
        return [{ certificate: k.certificate, issuer: k.issuer, cert }];
      });
    },
    close: () => db.close(),
  };
}
