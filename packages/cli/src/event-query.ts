import { VolactError } from '@volact/protocol';
import { emit, table } from './output.js';

type Flags = Record<string, string | boolean | undefined>;

/**
 * The admin query of an events command: `--since TIME` (any time Date.parse reads) as
 * milliseconds, `--limit N`, and each filter option under its query name.
 */
export function eventQuery(o: Flags, filters: Record<string, string>): URLSearchParams {
  const q = new URLSearchParams();
  if (o.since) {
    const t = Date.parse(o.since as string);
    if (!Number.isFinite(t)) throw new VolactError('USAGE', { detail: `--since ${String(o.since)} is not a time` });
    q.set('since', String(t));
  }
  for (const [option, name] of Object.entries(filters)) if (o[option]) q.set(name, o[option] as string);
  if (o.limit) q.set('limit', o.limit as string);
  return q;
}

/** Prints events as JSON lines (--jsonl), one JSON array (--json) or a table of `columns`. */
export function printEvents(
  o: Flags,
  events: Record<string, unknown>[],
  rows: () => Record<string, unknown>[],
  columns: string[],
): void {
  if (o.jsonl) process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''));
  else emit(Boolean(o.json), events, () => table(rows(), columns));
}
