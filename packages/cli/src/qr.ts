import { createRequire } from 'node:module';

/** qrcode is loaded when a code is drawn, not by every command (a status needs none). */
const load = () => createRequire(import.meta.url)('qrcode') as typeof import('qrcode');

/**
 * Whether to draw a QR code: on a terminal only, since in a log or a pipe it is lines of escape
 * codes and block characters; `VOLACT_QR=1` draws it anyway (a terminal the process cannot see).
 */
export function qrWanted(): boolean {
  return process.stdout.isTTY === true || process.env.VOLACT_QR === '1';
}

/**
 * A QR code for the terminal (the first choice for moving a code off an air-gapped screen: a
 * phone reads it). Hyphens are dropped and letters are upper case, so the code fits QR's
 * alphanumeric mode; the typed code is printed next to it anyway.
 */
export function qrText(code: string): string {
  const data = code.replace(/-/g, '').toUpperCase();
  let out = '';
  load().toString(data, { type: 'terminal', small: true, errorCorrectionLevel: 'M' }, (err, text) => {
    if (err) throw err;
    out = text;
  });
  return out;
}
