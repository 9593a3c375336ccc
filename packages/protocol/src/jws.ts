import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { b64u, fromB64u, isB64u } from './base64url.js';
import { VolactError } from './errors.js';

/**
 * The envelope: JWS compact serialisation, EdDSA (Ed25519) only. The protected header carries
 * `typ`, `ver` and `kid`; the verifier pins `alg` and the expected type, and checks the version
 * before the signature, so each kind of tampering is named by its own error.
 */
export const ALG = 'EdDSA';
/** Largest document read: a catalog of a few thousand editions fits; the authority refuses larger ones at import. */
export const MAX_JWS_LENGTH = 1024 * 1024;

export type Header = { alg: string; typ: string; ver: number; kid: string };

export type KeyPair = { privateKey: KeyObject; publicKey: KeyObject; kid: string };

/** Raw 32-byte Ed25519 public key as base64url: the form keys take inside documents. */
export function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' }) as { x?: string };
  if (!jwk.x) throw new Error('not an Ed25519 public key');
  return jwk.x;
}

export function publicKeyFromRaw(x: string): KeyObject {
  if (!isB64u(x) || fromB64u(x).length !== 32)
    throw new VolactError('DOCUMENT_INVALID', { type: 'key', detail: 'public key is not 32 bytes of base64url' });
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/** A key ID derived from the public key, so it cannot be claimed for another key. */
export function kidFor(prefix: string, publicKey: KeyObject): string {
  return `${prefix}-${createHash('sha256')
    .update(fromB64u(rawPublicKey(publicKey)))
    .digest('base64url')
    .slice(0, 16)}`;
}

export function generateKeyPair(prefix: string): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return { privateKey, publicKey, kid: kidFor(prefix, publicKey) };
}

export function privateKeyToPem(k: KeyObject): string {
  return k.export({ format: 'pem', type: 'pkcs8' }).toString();
}

export function publicKeyToPem(k: KeyObject): string {
  return k.export({ format: 'pem', type: 'spki' }).toString();
}

export function keyPairFromPem(prefix: string, pem: string): KeyPair {
  const privateKey = createPrivateKey(pem);
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 private key');
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, kid: kidFor(prefix, publicKey) };
}

export function publicKeyFromPem(pem: string): KeyObject {
  const k = createPublicKey(pem);
  if (k.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 public key');
  return k;
}

/** A signer caches its encoded header prefix: signing is on the activation hot path. */
export function signer(key: KeyPair, typ: string, ver: number): (payload: object) => string {
  const head = b64u(JSON.stringify({ alg: ALG, typ, ver, kid: key.kid })) + '.';
  return (payload) => {
    const input = head + b64u(JSON.stringify(payload));
    return input + '.' + sign(null, Buffer.from(input), key.privateKey).toString('base64url');
  };
}

export function signDocument(key: KeyPair, typ: string, ver: number, payload: object): string {
  return signer(key, typ, ver)(payload);
}

export type Parsed = { header: Header; payload: unknown; signingInput: string; signature: Buffer };

/** Splits and decodes without verifying; every failure is ENVELOPE_MALFORMED. */
export function parseJws(jws: unknown): Parsed {
  if (typeof jws !== 'string') throw new VolactError('ENVELOPE_MALFORMED', { detail: 'not a string' });
  if (jws.length > MAX_JWS_LENGTH) throw new VolactError('ENVELOPE_MALFORMED', { detail: 'too long' });
  const parts = jws.split('.');
  if (parts.length !== 3 || !parts.every(isB64u))
    throw new VolactError('ENVELOPE_MALFORMED', { detail: 'not three base64url parts' });
  const [h, p, s] = parts as [string, string, string];
  let header: unknown;
  let payload: unknown;
  try {
    header = JSON.parse(fromB64u(h).toString('utf8'));
    payload = JSON.parse(fromB64u(p).toString('utf8'));
  } catch {
    throw new VolactError('ENVELOPE_MALFORMED', { detail: 'header or payload is not JSON' });
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new VolactError('ENVELOPE_MALFORMED', { detail: 'header is not an object' });
  const { alg, typ, ver, kid } = header as Record<string, unknown>;
  if (typeof alg !== 'string' || typeof typ !== 'string' || typeof ver !== 'number' || typeof kid !== 'string') {
    throw new VolactError('ENVELOPE_MALFORMED', { detail: 'header lacks alg, typ, ver or kid' });
  }
  const extra = Object.keys(header).filter((k) => !['alg', 'typ', 'ver', 'kid'].includes(k));
  if (extra.length) throw new VolactError('ENVELOPE_MALFORMED', { detail: `unknown header ${extra.join(', ')}` });
  return { header: { alg, typ, ver, kid }, payload, signingInput: `${h}.${p}`, signature: fromB64u(s) };
}

/**
 * Verifies a document of one expected type. Checks, in order: alg pinned, type, version,
 * key ID, signature. Returns the payload, still to be validated by the document's reader.
 */
export function verifyJws(
  jws: unknown,
  expect: { typ: string; versions: readonly number[]; kid: string; key: KeyObject },
): Parsed {
  const parsed = parseJws(jws);
  const { header } = parsed;
  if (header.alg !== ALG) throw new VolactError('ENVELOPE_ALG', { alg: header.alg });
  if (header.typ !== expect.typ) throw new VolactError('DOCUMENT_TYPE', { expected: expect.typ, actual: header.typ });
  if (!expect.versions.includes(header.ver))
    throw new VolactError('DOCUMENT_VERSION', { type: header.typ, version: header.ver });
  if (header.kid !== expect.kid) throw new VolactError('ISSUER_NOT_CERTIFIED', { type: header.typ, kid: header.kid });
  if (parsed.signature.length !== 64 || !verify(null, Buffer.from(parsed.signingInput), expect.key, parsed.signature)) {
    throw new VolactError('SIGNATURE_INVALID', { type: header.typ });
  }
  return parsed;
}
