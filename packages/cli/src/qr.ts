import QRCode from 'qrcode';

/**
 * A QR code for the terminal (the first choice for moving a code off an air-gapped screen: a
 * phone reads it). Hyphens are dropped and letters are upper case, so the code fits QR's
 * alphanumeric mode; the typed code is printed next to it anyway.
 */
export function qrText(code: string): string {
  const data = code.replace(/-/g, '').toUpperCase();
  let out = '';
  QRCode.toString(data, { type: 'terminal', small: true, errorCorrectionLevel: 'M' }, (err, text) => {
    if (err) throw err;
    out = text;
  });
  return out;
}
