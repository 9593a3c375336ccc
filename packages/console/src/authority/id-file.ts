/**
 * The file format of `volact authority confirm --in` and `--out` (docs/cli.md): one installation ID
 * per line, optionally after a label; `#` starts a comment. A first word that is a correctly typed
 * first group of a code (its check character matches) is the code, any other first word a label.
 */
const KEY_ALPHABET = '23456789ACDEFGHJKLMNPQRTUVWXY';

/** The same check as isCodeGroup in @volact/protocol (offline-codes.ts), which needs Node's Buffer. */
export function isCodeGroup(text: string, index: number): boolean {
  const ds = [...text.toUpperCase()].map((c) => KEY_ALPHABET.indexOf(c));
  if (ds.length < 2 || ds.length > 8 || ds.some((d) => d < 0)) return false;
  let sum = 7 * (index + 1);
  ds.slice(0, -1).forEach((d, i) => (sum += (i + 2) * d));
  return (29 - (sum % 29)) % 29 === ds[ds.length - 1];
}

export type IdLine = { label: string; iid: string };

export function readIdFile(text: string): IdLine[] {
  const lines: IdLine[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const parts = line.split(/\s+/);
    const labelled = parts.length >= 2 && !isCodeGroup(parts[0]!.split('-')[0]!, 0);
    lines.push({ label: labelled ? parts[0]! : `line-${i + 1}`, iid: (labelled ? parts.slice(1) : parts).join('') });
  });
  return lines;
}

export type BulkResult =
  | { ok: true; installationId: string; confirmationId: string }
  | {
      ok: false;
      installationId: string;
      error: { code: string; message: string; fix?: string; params?: Record<string, string | number> };
    };

/** The --out file: a comment line, then `label IID CID` or `label IID ERROR CODE message`. */
export function writeResults(lines: IdLine[], results: BulkResult[]): string {
  const out = ['# volact confirmations: label installation-id confirmation-id (or ERROR code message)'];
  results.forEach((r, i) => {
    const l = lines[i]!;
    if (r.ok) out.push(`${l.label} ${r.installationId} ${r.confirmationId}`);
    else out.push(`${l.label} ${l.iid} ERROR ${r.error.code} ${r.error.message.replace(/\s+/g, ' ')}`);
  });
  return out.join('\n') + '\n';
}
