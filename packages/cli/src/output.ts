import { VolactError, errorBody, exitCodes } from '@volact/protocol';

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
  else process.stderr.write(`Error ${e.code}: ${e.message}\nFix: ${e.fix}\n`);
  process.exit(e.exit ?? exitCodes.internal);
}

export function iso(t: number | null | undefined): string {
  return t === null || t === undefined ? '-' : new Date(t).toISOString();
}

export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  // a value from the network (a machine's name) never reaches the terminal as control characters
  const cells = rows.map((r) => columns.map((c) => String(r[c] ?? '-').replace(/[\p{Cc}\p{Cf}]/gu, '?')));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(columns), ...cells.map(line)].join('\n');
}
