import { join } from 'node:path';
import { VolactError, hostIdFor, rawPublicKey } from '@volact/protocol';
import { openHostDir } from './host-dir.js';
import { migrations } from './host-store.js';
import { verifyHostLog, type LogReport } from './log-verify.js';

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
  const host = openHostDir(
    dir,
    (detail) => new VolactError('LOG_UNAVAILABLE', { file: join(dir, 'host.db'), detail }),
    (file, detail) => new VolactError('LOG_KEY_MISMATCH', { file, detail }),
  );
  const { db, file } = host;
  try {
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version < CHAINED_VERSION || version > migrations.length)
      throw new VolactError('LOG_UNAVAILABLE', {
        file,
        detail: `its schema version is ${version}; this volact reads versions ${CHAINED_VERSION} to ${migrations.length}`,
      });
    // time 0: a certificate past its own expiry still names the key that signed the log
    const activated = host.certified(0).length > 0;
    const publicKey = host.keyPair.publicKey;
    const report = verifyHostLog(db, publicKey);
    return { ...report, hostId: hostIdFor(rawPublicKey(publicKey)), activated, file };
  } finally {
    host.close();
  }
}
