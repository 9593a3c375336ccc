import { VolactError, enMessages, type MessageId } from '@volact/protocol';
import { lang, t } from './lang.js';
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
  else emit(Boolean(o.json), events, () => eventTable(rows(), columns));
}

const known = (id: string): id is MessageId => Object.hasOwn(enMessages, id);

/**
 * Events as a table. In English the event column holds the number and the headers are the field
 * names, as they always were; in another language each number gets its description and the
 * headers are translated (the --json and --jsonl output stays the same in every language).
 */
export function eventTable(rows: Record<string, unknown>[], columns: string[]): string {
  if (lang() === 'en') return table(rows, columns);
  const described = rows.map((r) => {
    const id = `event.${String(r.event)}`;
    return known(id) ? { ...r, event: t('event.cell', { event: String(r.event), description: t(id) }) } : r;
  });
  const headers = columns.map((c) => (known(`column.${c}`) ? t(`column.${c}` as MessageId) : c));
  return table(described, columns, headers);
}
