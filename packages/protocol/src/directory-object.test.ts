import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootFromKey, type Root } from './chain.js';
import { DAY } from './clock.js';
import { DIRECTORY_VALUE_PREFIX, encodeDirectoryValue, verifyDirectoryObject } from './directory-object.js';
import { docTypes, type Catalog, type DirectoryObject, type IssuerCert } from './documents.js';
import { VolactError, type ErrorCode } from './errors.js';
import { generateKeyPair, rawPublicKey, signDocument, type KeyPair } from './jws.js';
import { decodeKey, mintKey } from './key-codec.js';
import { makeConfirmation, makeInstallationId, parseInstallationId } from './offline-codes.js';

const now = Date.UTC(2026, 10, 28, 9);
const directoryId = '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a';
const otherDirectory = '7b1d9e2c-5a4f-4e3b-8c2d-1a0f9e8d7c6b';

function publisher() {
  const root = generateKeyPair('root');
  const issuer = (purpose: IssuerCert['purpose']) => {
    const pair = generateKeyPair(`iss-${purpose}`);
    const cert: IssuerCert = {
      kid: pair.kid,
      purpose,
      publicKey: rawPublicKey(pair.publicKey),
      root: root.kid,
      notBefore: now - DAY,
      notAfter: now + 365 * DAY,
    };
    return { pair, certificate: signDocument(root, docTypes.issuer, 1, cert) };
  };
  return {
    root,
    roots: [rootFromKey(root.publicKey)] as Root[],
    directory: issuer('directory'),
    hostCert: issuer('host-cert'),
    offline: issuer('offline'),
    catalog: issuer('catalog'),
  };
}

const pub = publisher();
const doc = (over: Partial<DirectoryObject> = {}): DirectoryObject => ({
  objectId: 'AO-1234abcd',
  name: 'office-2026',
  directoryId,
  directoryKind: 'openldap',
  suffix: 'dc=example,dc=com',
  hostKeyId: 'HK-1',
  group: 'server-2026',
  editions: [{ number: 201, code: 'server-standard', name: 'Server Standard', kind: 'server' }],
  issuedAt: now - DAY,
  activation: 1,
  ...over,
});
const online = (d: DirectoryObject, issuer: { pair: KeyPair; certificate: string } = pub.directory) =>
  encodeDirectoryValue({
    v: 1,
    object: signDocument(issuer.pair, docTypes.directoryObject, 1, d),
    issuer: issuer.certificate,
  });
const expectCode = (code: ErrorCode) => (e: unknown) => e instanceof VolactError && e.code === code;
const verify = (value: string, roots = pub.roots, id = directoryId) =>
  verifyDirectoryObject(value, roots, { directoryId: id, name: 'office-2026' });

describe('directory activation objects', () => {
  test('a signed object for this directory verifies, with its editions', () => {
    const v = verify(online(doc()));
    assert.deepEqual(
      [v.name, v.group, v.offline, v.editions.map((e) => e.code)],
      ['office-2026', 'server-2026', false, ['server-standard']],
    );
    assert.ok(online(doc()).startsWith(DIRECTORY_VALUE_PREFIX));
    assert.match(online(doc()), /^[\x21-\x7e]+$/, 'plain ASCII, for an IA5String attribute');
  });

  test('the directory ID is compared case-insensitively, as servers print UUIDs either way', () => {
    assert.equal(verify(online(doc()), pub.roots, directoryId.toUpperCase()).directoryId, directoryId);
  });

  test('an object copied into another directory (same suffix, another ID) is refused', () => {
    assert.throws(() => verify(online(doc()), pub.roots, otherDirectory), expectCode('DIRECTORY_OBJECT_FOREIGN'));
  });

  test('an object of another publisher is refused at its issuer', () => {
    const other = publisher();
    assert.throws(() => verify(online(doc(), other.directory)), expectCode('CHAIN_UNTRUSTED_ROOT'));
  });

  test('an issuing key for another purpose (host certificates) cannot sign directory objects', () => {
    assert.throws(() => verify(online(doc(), pub.hostCert)), expectCode('ISSUER_WRONG_PURPOSE'));
  });

  test('a changed byte of the signed object fails its signature', () => {
    const value = online(doc());
    const env = JSON.parse(Buffer.from(value.slice(DIRECTORY_VALUE_PREFIX.length), 'base64url').toString());
    const [h, p, s] = env.object.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString());
    payload.directoryId = otherDirectory;
    env.object = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
    assert.throws(() => verify(encodeDirectoryValue(env), pub.roots, otherDirectory), expectCode('SIGNATURE_INVALID'));
  });

  test('malformed values are DIRECTORY_OBJECT_INVALID, naming the object', () => {
    for (const value of [
      '',
      'eyJhbGciOiJFZERTQSJ9.e30.sig',
      `${DIRECTORY_VALUE_PREFIX}%%%`,
      `${DIRECTORY_VALUE_PREFIX}${Buffer.from('{"v":1}').toString('base64url')}`,
      `${DIRECTORY_VALUE_PREFIX}${Buffer.from('[]').toString('base64url')}`,
    ]) {
      assert.throws(
        () => verify(value),
        (e: unknown) =>
          e instanceof VolactError && e.code === 'DIRECTORY_OBJECT_INVALID' && e.message.includes('office-2026'),
        value,
      );
    }
    const both = JSON.parse(Buffer.from(online(doc()).slice(DIRECTORY_VALUE_PREFIX.length), 'base64url').toString());
    both.offline = {
      iid: 'x',
      cid: 'y',
      catalog: 'z',
      catalogIssuer: 'w',
      name: 'n',
      suffix: 's',
      directoryKind: 'openldap',
    };
    assert.throws(() => verify(encodeDirectoryValue(both)), expectCode('DIRECTORY_OBJECT_INVALID'));
  });

  test('an object made offline verifies through its confirmation, the catalog and the installation ID', () => {
    const secret = Buffer.alloc(32, 7);
    const key = decodeKey(mintKey(secret, 'host', 2, 12345n));
    const catalog: Catalog = {
      serial: 1,
      issuedAt: now - DAY,
      products: [{ code: 'server', name: 'Server' }],
      editions: [
        {
          number: 201,
          code: 'server-standard',
          name: 'Server Standard',
          product: 'server',
          kind: 'server',
          setupKey: mintKey(secret, 'setup', 201, 1n),
        },
      ],
      groups: [{ number: 2, code: 'server-2026', name: 'Server 2026', kind: 'server', editions: [201] }],
    };
    const iid = parseInstallationId(makeInstallationId(key, { type: 'directory', directoryId }).text);
    assert.equal(iid.directoryId, directoryId);
    const cid = makeConfirmation(
      iid,
      { privateKey: pub.offline.pair.privateKey, rawPublicKey: rawPublicKey(pub.offline.pair.publicKey) },
      now,
    );
    const value = encodeDirectoryValue({
      v: 1,
      issuer: pub.offline.certificate,
      offline: {
        iid: iid.publicForm.toString('base64url'),
        cid: cid.text,
        catalog: signDocument(pub.catalog.pair, docTypes.catalog, 1, catalog),
        catalogIssuer: pub.catalog.certificate,
        name: 'branch',
        suffix: 'dc=example,dc=com',
        directoryKind: 'openldap',
      },
    });
    const v = verify(value);
    assert.deepEqual([v.offline, v.group, v.editions.map((e) => e.number)], [true, 'server-2026', [201]]);
    assert.throws(() => verify(value, pub.roots, otherDirectory), expectCode('DIRECTORY_OBJECT_FOREIGN'));
    assert.throws(() => verify(value, publisher().roots), expectCode('CHAIN_UNTRUSTED_ROOT'));
  });
});
