import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureDir } from './state.js';

/** Client events (12288 request sent, 12289 answer processed, machine ID renewals), as JSON lines. */
export type ClientEvent = { event: number | string; at: number } & Record<string, unknown>;

export function appendEvent(dir: string, e: ClientEvent): void {
  ensureDir(dir);
  appendFileSync(join(dir, 'events.jsonl'), JSON.stringify({ ...e, at: new Date(e.at).toISOString() }) + '\n', { mode: 0o600 });
}

export function readEvents(dir: string, limit = 1000): Record<string, unknown>[] {
  const path = join(dir, 'events.jsonl');
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
  return lines.slice(-limit).flatMap((l) => {
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}
