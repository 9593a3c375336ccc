import { VolactError, errorBody, exitCodes, translateError } from '@volact/protocol';
import { lang, t } from './lang.js';

/** Prints a result: JSON with --json, else the human rendering. */
export function emit(json: boolean, value: unknown, human: () => string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : human() + '\n');
}

/** The CLI's one error mapping: a VolactError's code becomes its class's exit code. */
export function fail(err: unknown, json: boolean): never {
  const e = err instanceof VolactError ? err : new VolactError('INTERNAL', { requestId: 'cli' });
  if (!(err instanceof VolactError))
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  if (json) process.stdout.write(JSON.stringify({ error: errorBody(e) }, null, 2) + '\n');
  else process.stderr.write(`${errorText(e)}\n`);
  process.exit(e.exit ?? exitCodes.internal);
}

/** `Error CODE: message` and `Fix: fix`, in this run's language (the code stays as it is). */
export function errorText(e: VolactError): string {
  const { message, fix } = translateError(e, lang());
  return `${t('cli.error', { code: e.code, message })}\n${t('cli.fix', { fix })}`;
}

export function iso(t: number | null | undefined): string {
  return t === null || t === undefined ? '-' : new Date(t).toISOString();
}

/**
 * Columns a terminal gives a text: two for East Asian wide and full-width characters, and (as
 * before) two for those beyond the BMP such as emoji; one for the others.
 */
function width(text: string): number {
  let n = 0;
  for (const ch of text)
    n +=
      ch.length > 1 ||
      /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u.test(ch)
        ? 2
        : 1;
  return n;
}

/** Rows as aligned text; `headers` names the columns when their field names are not what to show. */
export function table(rows: Record<string, unknown>[], columns: string[], headers: string[] = columns): string {
  if (rows.length === 0) return t('common.noRows');
  // a value from the network (a machine's name) never reaches the terminal as control characters
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '-').replace(/[\p{Cc}\p{Cf}]/gu, '?')));
  const widths = headers.map((c, i) => Math.max(width(c), ...cells.map((row) => width(row[i]!))));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v + ' '.repeat(widths[i]! - width(v)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...cells.map(line)].join('\n');
}
