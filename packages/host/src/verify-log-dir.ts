import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VolactError, hostIdFor, keyPairFromPem, rawPublicKey, verifyHostCert } from '@volact/protocol';
import { HostStore, migrations } from './host-store.js';
import { verifyHostLog, type LogReport } from './log-verify.js';
import { pinnedRoots, readOrCorrupt } from './run-host.js';

/** What `volact host verify-log` found, with the host it is about. */
export type LogVerification = LogReport & { hostId: string; activated: boolean; file: string };

/** The first version of host.db with a chained log (migration 6). */
const CHAINED_VERSION = 6;

/**
 * `volact host verify-log`: opens DIR/host.db read-only (the host may be running: WAL lets it
 * read a consistent snapshot) and checks its log against the host's own public key, from
 * host.key. An activated host's certificates must chain to the pinned root and name that key,
 * so a key swapped in beside the database is found too.
 */
export function verifyLogDir(dir: string): LogVerification {
  const file = join(dir, 'host.db');
  if (!existsSync(file)) throw new VolactError('LOG_UNAVAILABLE', { file, detail: 'there is no host.db there' });
  const keyFile = join(dir, 'host.key');
  if (!existsSync(keyFile)) throw new VolactError('LOG_UNAVAILABLE', { file, detail: `${keyFile} is missing` });
  const publicKey = readOrCorrupt(keyFile, (text) => keyPairFromPem('host', text)).publicKey;
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true });
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file, detail: (err as Error).message });
  }
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < CHAINED_VERSION || version > migrations.length)
      throw new VolactError('LOG_UNAVAILABLE', {
        file,
        detail: `its schema version is ${version}; this volact reads versions ${CHAINED_VERSION} to ${migrations.length}`,
      });
    const keys = new HostStore(db).keys().filter((k) => k.certificate && k.issuer);
    if (keys.length) {
      const { roots } = pinnedRoots(dir, undefined);
      for (const k of keys) {
        // time 0: a certificate past its own expiry still names the key that signed the log
        const { cert } = verifyHostCert(k.certificate!, k.issuer!, roots, 0);
        if (cert.hostPublicKey !== rawPublicKey(publicKey))
          throw new VolactError('LOG_KEY_MISMATCH', {
            file: keyFile,
            detail: `the certificate of host key ${k.id} names host ${cert.hostId}`,
          });
      }
    }
    const report = verifyHostLog(db, publicKey);
    return { ...report, hostId: hostIdFor(rawPublicKey(publicKey)), activated: keys.length > 0, file };
  } finally {
    db.close();
  }
}
