/**
 * The checkpoint thread (see checkpointer.ts): its own connection to host.db, one PASSIVE
 * checkpoint per message. PASSIVE never waits for the writer: it copies what is committed and
 * fsyncs the database file, off the thread that answers clients. Failures are answered as
 * messages (an error thrown here would reach the host without its message).
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));
let db: Database.Database | undefined;
let openError: string | undefined;
try {
  db = new Database((workerData as { path: string }).path);
  db.pragma('busy_timeout = 5000');
} catch (err) {
  openError = `cannot open the database: ${message(err)}`;
}

parentPort!.on('message', (m: 'pass' | 'stop') => {
  if (m === 'stop') {
    db?.close();
    parentPort!.postMessage({ stopped: true });
    return;
  }
  if (!db) {
    parentPort!.postMessage({ error: openError });
    return;
  }
  const started = performance.now();
  try {
    const [result] = db.pragma('wal_checkpoint(PASSIVE)') as { busy: number; log: number; checkpointed: number }[];
    parentPort!.postMessage({ log: result!.log, checkpointed: result!.checkpointed, ms: performance.now() - started });
  } catch (err) {
    parentPort!.postMessage({ error: message(err) });
  }
});
