import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { VolactError } from '@volact/protocol';
import { KeyStore } from './key-store.js';

/**
 * The settings a host stored in DIR/host.db, read without writing (a running host keeps its
 * WAL; a reader never checkpoints or migrates): {} when there is no database yet.
 */
export function readStoredSettings(dir: string): Record<string, unknown> {
  const path = join(dir, 'host.db');
  if (!existsSync(path)) return {};
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    return new KeyStore(db).settings();
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
  } finally {
    db?.close();
  }
}
