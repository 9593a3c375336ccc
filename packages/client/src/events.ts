import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { writeFileAtomic } from '@volact/io';
import { join } from 'node:path';
import { ensureDir } from './state.js';

/** Client events (12288 request sent, 12289 answer processed, machine ID renewals), as JSON lines. */
export type ClientEvent = { event: number | string; at: number } & Record<string, unknown>;

/** The log keeps the newest lines once it passes this size, so it stays bounded. */
const MAX_LOG_BYTES = 2 * 1024 * 1024;

export function appendEvent(dir: string, e: ClientEvent): void {
  ensureDir(dir);
  const path = join(dir, 'events.jsonl');
  appendFileSync(path, JSON.stringify({ ...e, at: new Date(e.at).toISOString() }) + '\n', { mode: 0o600 });
  if (statSync(path).size > MAX_LOG_BYTES) {
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    writeFileAtomic(path, lines.slice(-Math.floor(lines.length / 2)).join('\n') + '\n', 0o600);
  }
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
