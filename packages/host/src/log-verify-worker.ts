/**
 * The console's log verification thread (console-log-state.ts): verifies DIR/host.db read-only
 * (verify-log-dir.ts) off the thread that answers clients; a million records take about 24 s.
 * One message per run: the report, or the error's message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { verifyLogDir } from './verify-log-dir.js';

try {
  const r = verifyLogDir((workerData as { dir: string }).dir);
  parentPort!.postMessage({ intact: r.intact, records: r.records, problem: r.first?.detail });
} catch (err) {
  parentPort!.postMessage({ error: err instanceof Error ? err.message : String(err) });
}
