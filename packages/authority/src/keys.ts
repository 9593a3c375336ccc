import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DAY,
  VolactError,
  DOC_VERSION,
  docTypes,
  generateKeyPair,
  issuerPurposes,
  keyPairFromPem,
  privateKeyToPem,
  publicKeyFromPem,
  publicKeyToPem,
  rawPublicKey,
  rootFromKey,
  signDocument,
  verifyIssuer,
  type IssuerCert,
  type IssuerPurpose,
  type KeyPair,
  type Root,
} from '@volact/protocol';
import { makeStateDir, writeFileAtomic } from '@volact/io';

/**
 * The authority's key directory. The root private key (root.key) certifies issuing keys and
 * is needed for nothing else: after `init` and `rotate-issuer` it can be moved offline.
 *
 *   root.key   0600  Ed25519 root private key (move offline)
 *   root.pub   0644  root public key: what hosts and clients pin
 *   mint.secret 0600 HMAC secret that makes product keys only this authority accepts
 *   issuers/<purpose>.key 0600, issuers/<purpose>.jws  issuing key and its root-signed certificate
 */
export type Issuer = { pair: KeyPair; certificate: string; cert: IssuerCert };
export type AuthorityKeys = { root: Root; mintSecret: Buffer; issuers: Map<IssuerPurpose, Issuer> };

export const ISSUER_VALIDITY_MS = 2 * 365 * DAY;

export function loadRootPair(dir: string): KeyPair {
  const path = join(dir, 'root.key');
  if (!existsSync(path)) throw new VolactError('ROOT_KEY_OFFLINE', { path });
  return keyPairFromPem('root', readFileSync(path, 'utf8'));
}

/** Certifies a fresh issuing key for one purpose with the root key. */
export function certifyIssuer(dir: string, root: KeyPair, purpose: IssuerPurpose, now: number): Issuer {
  const pair = generateKeyPair(`iss-${purpose}`);
  const cert: IssuerCert = {
    kid: pair.kid,
    purpose,
    publicKey: rawPublicKey(pair.publicKey),
    root: root.kid,
    notBefore: now - DAY,
    notAfter: now + ISSUER_VALIDITY_MS,
  };
  const certificate = signDocument(root, docTypes.issuer, DOC_VERSION, cert);
  mkdirSync(join(dir, 'issuers'), { recursive: true, mode: 0o700 });
  writeFileAtomic(join(dir, 'issuers', `${purpose}.key`), privateKeyToPem(pair.privateKey), 0o600);
  writeFileAtomic(join(dir, 'issuers', `${purpose}.jws`), certificate, 0o644);
  return { pair, certificate, cert };
}

/** Creates the root key, the mint secret and one issuing key per purpose. Refuses to overwrite. */
export function initKeys(dir: string, now: number): { rootPub: string; rootKid: string } {
  makeStateDir(dir);
  if (existsSync(join(dir, 'root.pub'))) throw new VolactError('AUTHORITY_EXISTS', { dir });
  const root = generateKeyPair('root');
  writeFileAtomic(join(dir, 'root.key'), privateKeyToPem(root.privateKey), 0o600);
  writeFileAtomic(join(dir, 'root.pub'), publicKeyToPem(root.publicKey), 0o644);
  writeFileAtomic(join(dir, 'mint.secret'), randomBytes(32).toString('base64'), 0o600);
  for (const purpose of issuerPurposes) certifyIssuer(dir, root, purpose, now);
  return { rootPub: join(dir, 'root.pub'), rootKid: root.kid };
}

/**
 * Loads the keys and checks them before use: every issuing key must carry a certificate from
 * this root for its purpose and for its own public key, or nothing it signs would verify.
 */
export function loadKeys(dir: string): AuthorityKeys {
  const rootPath = join(dir, 'root.pub');
  if (!existsSync(rootPath)) throw new VolactError('AUTHORITY_NOT_READY', { detail: `no authority in ${dir}` });
  const broken = (what: string, err: unknown) =>
    new VolactError('AUTHORITY_NOT_READY', { detail: `${what}: ${err instanceof Error ? err.message : String(err)}` });
  try {
    const root = rootFromKey(publicKeyFromPem(readFileSync(rootPath, 'utf8')));
    const mintSecret = Buffer.from(readFileSync(join(dir, 'mint.secret'), 'utf8').trim(), 'base64');
    if (mintSecret.length < 32) throw new Error('mint.secret holds less than 32 bytes');
    const issuers = new Map<IssuerPurpose, Issuer>();
    for (const purpose of issuerPurposes) {
      const keyPath = join(dir, 'issuers', `${purpose}.key`);
      if (!existsSync(keyPath)) continue;
      const pair = keyPairFromPem(`iss-${purpose}`, readFileSync(keyPath, 'utf8'));
      const certificate = readFileSync(join(dir, 'issuers', `${purpose}.jws`), 'utf8').trim();
      let cert: IssuerCert;
      try {
        cert = verifyIssuer(certificate, [root], purpose);
      } catch (err) {
        throw broken(`issuers/${purpose}.jws does not verify against root.pub`, err);
      }
      if (cert.publicKey !== rawPublicKey(pair.publicKey))
        throw new Error(`issuers/${purpose}.jws certifies another key than issuers/${purpose}.key`);
      issuers.set(purpose, { pair, certificate, cert });
    }
    return { root, mintSecret, issuers };
  } catch (err) {
    if (err instanceof VolactError) throw err;
    throw broken(`the keys in ${dir} cannot be used`, err);
  }
}
