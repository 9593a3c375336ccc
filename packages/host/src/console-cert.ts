import { X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { VolactError } from '@volact/protocol';
import { writeFileAtomic } from '@volact/io';

/**
 * The host console's TLS certificate: the operator's (`--console-cert`/`--console-key`), or one
 * made at the first start in the state directory (console.crt 0644, console.key 0600), ECDSA
 * P-256, self-signed, for localhost, 127.0.0.1, ::1 and the host's name. Node can sign but not
 * build an X.509 certificate, so the few DER structures it needs are encoded here (RFC 5280).
 */

/** One DER element: tag, definite length, content. */
function der(tag: number, ...content: Buffer[]): Buffer {
  const body = Buffer.concat(content);
  const n = body.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, body]);
}
const seq = (...c: Buffer[]) => der(0x30, ...c);
const oid = (hex: string) => der(0x06, Buffer.from(hex, 'hex'));
const utf8 = (s: string) => der(0x0c, Buffer.from(s, 'utf8'));
/** GeneralizedTime, which RFC 5280 allows for any date (UTCTime stops at 2049). */
const time = (t: Date) => der(0x18, Buffer.from(t.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z'));

const ECDSA_SHA256 = seq(oid('2a8648ce3d040302'));
const COMMON_NAME = '550403';
const SUBJECT_ALT_NAME = '551d11';
const BASIC_CONSTRAINTS = '551d13';
const KEY_USAGE = '551d0f';
const EXT_KEY_USAGE = '551d25';
const SERVER_AUTH = '2b06010505070301';

/** The subjectAltName entries: dNSName [2] or iPAddress [7]. */
function altNames(names: string[]): Buffer {
  return seq(
    ...names.map((n) => {
      if (isIP(n) === 4) return der(0x87, Buffer.from(n.split('.').map(Number)));
      if (isIP(n) === 6) return der(0x87, ipv6Bytes(n));
      return der(0x82, Buffer.from(n, 'ascii'));
    }),
  );
}

function ipv6Bytes(address: string): Buffer {
  const [head, tail] = address.split('::') as [string, string | undefined];
  const parts = (s: string | undefined) => (s ? s.split(':') : []);
  const h = parts(head);
  const t = parts(tail);
  const groups = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2));
  return out;
}

const extension = (id: string, critical: boolean, value: Buffer) =>
  seq(oid(id), ...(critical ? [der(0x01, Buffer.from([0xff]))] : []), der(0x04, value));

/** A self-signed ECDSA P-256 certificate for `names`, valid from a day ago for ten years. */
export function selfSignedCertificate(names: string[], now: Date): { certPem: string; keyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0]! &= 0x7f; // positive
  const name = seq(der(0x31, seq(oid(COMMON_NAME), utf8(`volact host console ${names.at(-1) ?? ''}`.trim()))));
  const from = new Date(now.getTime() - 86_400_000);
  const until = new Date(now.getTime() + 10 * 365 * 86_400_000);
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))), // v3
    der(0x02, serial),
    ECDSA_SHA256,
    name,
    seq(time(from), time(until)),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    der(
      0xa3,
      seq(
        extension(BASIC_CONSTRAINTS, true, seq()),
        extension(KEY_USAGE, true, der(0x03, Buffer.from([0x07, 0x80]))), // digitalSignature
        extension(EXT_KEY_USAGE, false, seq(oid(SERVER_AUTH))),
        extension(SUBJECT_ALT_NAME, false, altNames(names)),
      ),
    ),
  );
  const signature = sign('sha256', tbs, privateKey); // ECDSA: DER (r, s), as X.509 wants
  const cert = seq(tbs, ECDSA_SHA256, der(0x03, Buffer.from([0]), signature));
  const b64 = cert.toString('base64').replace(/.{64}/g, '$&\n');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64.trimEnd()}\n-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

export type ConsoleCertificate = { cert: string; key: string; fingerprint: string; selfSigned: boolean };

/** SHA-256 fingerprint as browsers show it: colon-separated upper-case hex. */
export function fingerprintOf(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/**
 * The console's certificate: the operator's files when given (both, or neither: USAGE), else
 * DIR/console.crt and console.key, made at the first start. Damaged files are STATE_CORRUPT.
 */
export function consoleCertificate(
  dir: string,
  given: { certFile?: string; keyFile?: string },
  hostName: string,
  now: Date,
): ConsoleCertificate {
  if ((given.certFile === undefined) !== (given.keyFile === undefined))
    throw new VolactError('USAGE', { detail: '--console-cert and --console-key go together: give both, or neither' });
  const own = given.certFile === undefined;
  const certPath = given.certFile ?? join(dir, 'console.crt');
  const keyPath = given.keyFile ?? join(dir, 'console.key');
  if (own && !existsSync(certPath)) {
    const names = ['localhost', '127.0.0.1', '::1', ...(/^[A-Za-z0-9.-]{1,253}$/.test(hostName) ? [hostName] : [])];
    const made = selfSignedCertificate([...new Set(names)], now);
    writeFileAtomic(keyPath, made.keyPem, 0o600);
    writeFileAtomic(certPath, made.certPem, 0o644);
  }
  let cert: string;
  let key: string;
  try {
    cert = readFileSync(certPath, 'utf8');
    key = readFileSync(keyPath, 'utf8');
    const x509 = new X509Certificate(cert);
    if (!x509.checkPrivateKey(createPrivateKey(key))) throw new Error('the key does not match the certificate');
    return { cert, key, fingerprint: x509.fingerprint256, selfSigned: own };
  } catch (err) {
    if (err instanceof VolactError) throw err;
    const detail = err instanceof Error ? err.message : String(err);
    if (!own) throw new VolactError('USAGE', { detail: `--console-cert/--console-key: ${detail}` });
    throw new VolactError('STATE_CORRUPT', { file: certPath, detail });
  }
}
