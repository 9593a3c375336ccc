import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { rootFromKey, type Root } from './chain.js';
import { DAY } from './clock.js';
import { docTypes, type Catalog, type IssuerCert } from './documents.js';
import { VolactError, type ErrorCode } from './errors.js';
import { offlineHostCertificate, verifyHostCert } from './host-cert.js';
import { generateKeyPair, rawPublicKey, signDocument, type KeyPair } from './jws.js';
import { KEY_ALPHABET, decodeKey, mintKey } from './key-codec.js';
import {
  compactParts,
  decodeCode,
  encodeCode,
  installationIdMacValid,
  makIdOf,
  makeConfirmation,
  makeInstallationId,
  parseConfirmation,
  parseInstallationId,
} from './offline-codes.js';
import { verifyOfflineConfirmation } from './offline-confirmation.js';
import { hashedFingerprint, sameMachine } from './same-machine.js';

const now = Date.UTC(2026, 10, 28, 12);
const secret = randomBytes(32);
const mak = decodeKey(mintKey(secret, 'mak', 101, 123456789n));
const hostKey = decodeKey(mintKey(secret, 'host', 2, 987654321n));
const fp = { osId: 'os-1', board: 'board-1', cpu: 'cpu-1', disks: ['disk-a', 'disk-b'], nics: ['nic-a'] };
const parts = hashedFingerprint(fp);

function authority(): {
  root: KeyPair;
  roots: Root[];
  issuer: KeyPair;
  issuerJws: string;
  offline: { privateKey: KeyPair['privateKey']; rawPublicKey: string };
} {
  const root = generateKeyPair('root');
  const issuer = generateKeyPair('iss-offline');
  const cert: IssuerCert = {
    kid: issuer.kid,
    purpose: 'offline',
    publicKey: rawPublicKey(issuer.publicKey),
    root: root.kid,
    notBefore: now - 30 * DAY,
    notAfter: now + 700 * DAY,
  };
  return {
    root,
    roots: [rootFromKey(root.publicKey)],
    issuer,
    issuerJws: signDocument(root, docTypes.issuer, 1, cert),
    offline: { privateKey: issuer.privateKey, rawPublicKey: rawPublicKey(issuer.publicKey) },
  };
}

function codeOf(fn: () => unknown): { code: ErrorCode; params: Record<string, string | number> } {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof VolactError, `expected a VolactError, got ${String(err)}`);
    return { code: err.code, params: err.params };
  }
  assert.fail('expected an error');
}

function retype(text: string, position: number): string {
  // change one data character (never a hyphen) to another alphabet character
  const chars = [...text];
  let seen = -1;
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '-') continue;
    if (++seen === position) {
      chars[i] = KEY_ALPHABET[(KEY_ALPHABET.indexOf(chars[i]!) + 1) % 29]!;
      break;
    }
  }
  return chars.join('');
}

describe('typed codes', () => {
  test('round-trip any bytes, with groups of 8 (7 data + 1 check)', () => {
    for (let n = 1; n < 80; n++) {
      const bytes = randomBytes(n);
      const text = encodeCode(bytes);
      assert.ok(
        text
          .split('-')
          .slice(0, -1)
          .every((g) => g.length === 8),
      );
      assert.deepEqual(Buffer.from(decodeCode(text.toLowerCase().replace(/-/g, ' '), 'installation ID', [n])), bytes);
    }
  });

  test('every single substitution is reported in the group that holds it', () => {
    const text = encodeCode(randomBytes(69));
    const dataChars = text.replace(/-/g, '').length;
    for (let i = 0; i < dataChars; i++) {
      const e = codeOf(() => decodeCode(retype(text, i), 'confirmation ID', [69]));
      assert.equal(e.code, 'CODE_GROUP_TYPO');
      assert.equal(e.params.group, Math.floor(i / 8) + 1, `position ${i}`);
    }
  });

  test('every swap of neighbours inside a group is caught, and two swapped groups too', () => {
    const text = encodeCode(randomBytes(69));
    const groups = text.split('-');
    for (let g = 0; g < groups.length; g++) {
      for (let i = 0; i + 1 < groups[g]!.length; i++) {
        const s = [...groups[g]!];
        if (s[i] === s[i + 1]) continue;
        [s[i], s[i + 1]] = [s[i + 1]!, s[i]!];
        const typed = groups.map((x, j) => (j === g ? s.join('') : x)).join('-');
        assert.equal(codeOf(() => decodeCode(typed, 'confirmation ID', [69])).params.group, g + 1);
      }
    }
    const swapped = [groups[1], groups[0], ...groups.slice(2)].join('-');
    assert.equal(codeOf(() => decodeCode(swapped, 'confirmation ID', [69])).code, 'CODE_GROUP_TYPO');
  });

  test('a character outside the alphabet names its group; a missing group names the length', () => {
    const text = encodeCode(randomBytes(69));
    const withO = text.slice(0, 9) + 'O' + text.slice(10);
    assert.deepEqual(
      codeOf(() => decodeCode(withO, 'confirmation ID', [69])),
      { code: 'CODE_BAD_CHARACTER', params: { what: 'confirmation ID', group: 2, char: 'O' } },
    );
    const short = text.split('-').slice(0, -1).join('-');
    assert.equal(codeOf(() => decodeCode(short, 'confirmation ID', [69])).code, 'CODE_MALFORMED');
    assert.equal(codeOf(() => decodeCode('x'.repeat(5000), 'confirmation ID', [69])).code, 'CODE_MALFORMED');
    assert.equal(codeOf(() => decodeCode('2222', 'confirmation ID', [69])).code, 'CODE_MALFORMED');
    // one character left out of group 5: the groups after it shift, and group 5 is named, except
    // when the character pulled in from group 6 happens to fit as its check (1 time in 29): then
    // a later group is named
    let named5 = 0;
    for (let i = 0; i < 290; i++) {
      const t = encodeCode(randomBytes(69));
      const e = codeOf(() => decodeCode(t.slice(0, 4 * 9 + 3) + t.slice(4 * 9 + 4), 'confirmation ID', [69]));
      assert.equal(e.code, 'CODE_GROUP_TYPO');
      assert.ok(Number(e.params.group) >= 5, `group ${e.params.group}`);
      if (e.params.group === 5) named5++;
    }
    assert.ok(named5 > 250, `group 5 named ${named5} times of 290`);
  });
});

describe('installation IDs', () => {
  test('a MAK IID carries the key ID and hardware prefixes, never the key', () => {
    const iid = makeInstallationId(mak, { type: 'mak', machineId: 'machine-1', parts });
    const again = parseInstallationId(iid.text);
    assert.equal(again.type, 'mak');
    assert.equal(again.key.ref, 101);
    assert.equal(again.key.serial, mak.serial);
    assert.deepEqual(again.parts, compactParts(parts));
    const compact = mak.canonical.replace(/-/g, '');
    assert.ok(!iid.text.replace(/-/g, '').includes(compact.slice(0, 10)));
    assert.ok(!iid.publicForm.toString('hex').includes(mak.tag.toString(16)));
    assert.ok(!iid.publicForm.includes(iid.mac), 'the public form has no MAC');
    assert.ok(installationIdMacValid(again, mak.canonical));
    const other = decodeKey(mintKey(secret, 'mak', 101, 123456780n));
    assert.ok(!installationIdMacValid(again, other.canonical), 'the MAC is keyed by the product key');
    assert.ok(iid.text.length < 100, `IID length ${iid.text.length}`);
  });

  test("a MAK's ID is derived from its key ID, so its installation ID names it as the key does", () => {
    const iid = parseInstallationId(makeInstallationId(mak, { type: 'mak', machineId: 'machine-1', parts }).text);
    assert.match(makIdOf(mak), /^MAK-[0-9a-f]{8}$/);
    assert.equal(makIdOf(iid.key), makIdOf(mak));
    assert.notEqual(
      makIdOf(decodeKey(mintKey(secret, 'mak', 101, 123456780n))),
      makIdOf(mak),
      'another serial, another ID',
    );
  });

  test('the same machine and key give the same IID; a replaced disk keeps compact parts within tolerance', () => {
    const a = makeInstallationId(mak, { type: 'mak', machineId: 'machine-1', parts });
    const b = makeInstallationId(mak, { type: 'mak', machineId: 'machine-1', parts: hashedFingerprint(fp) });
    assert.equal(a.text, b.text);
    const repaired = parseInstallationId(
      makeInstallationId(mak, {
        type: 'mak',
        machineId: 'machine-1',
        parts: hashedFingerprint({ ...fp, disks: ['disk-new'] }),
      }).text,
    );
    assert.ok(sameMachine(a.parts!, repaired.parts!).same);
    const newBoard = parseInstallationId(
      makeInstallationId(mak, { type: 'mak', machineId: 'machine-1', parts: hashedFingerprint({ ...fp, board: 'b2' }) })
        .text,
    );
    assert.ok(!sameMachine(a.parts!, newBoard.parts!).same);
  });
});

describe('confirmation IDs', () => {
  const a = authority();
  const iid = makeInstallationId(mak, { type: 'mak', machineId: 'machine-1', parts });

  test('about 130 characters, verifiable offline against the pinned root', () => {
    const cid = makeConfirmation(iid, a.offline, now);
    const typed = cid.text.replace(/-/g, '').length; // characters to type, hyphens aside
    assert.ok(typed >= 120 && typed <= 140, `CID length ${typed}`);
    const { cid: read, issuer } = verifyOfflineConfirmation(cid.text, iid, [a.issuerJws], a.roots);
    assert.equal(read.issuedAt, Date.UTC(2026, 10, 28));
    assert.equal(issuer.cert.purpose, 'offline');
  });

  test('a typo in a confirmation names its group', () => {
    const cid = makeConfirmation(iid, a.offline, now);
    const e = codeOf(() => parseConfirmation(retype(cid.text, 30)));
    assert.deepEqual([e.code, e.params.group], ['CODE_GROUP_TYPO', 4]);
  });

  test('a confirmation for another installation ID is refused', () => {
    const other = makeInstallationId(mak, { type: 'mak', machineId: 'machine-2', parts });
    const cid = makeConfirmation(other, a.offline, now);
    assert.equal(
      codeOf(() => verifyOfflineConfirmation(cid.text, iid, [a.issuerJws], a.roots)).code,
      'CONFIRMATION_MISMATCH',
    );
    const hostIid = makeInstallationId(hostKey, {
      type: 'host',
      hostPublicKey: rawPublicKey(generateKeyPair('h').publicKey),
    });
    assert.equal(
      codeOf(() =>
        verifyOfflineConfirmation(makeConfirmation(hostIid, a.offline, now).text, iid, [a.issuerJws], a.roots),
      ).code,
      'CONFIRMATION_MISMATCH',
    );
  });

  test('a confirmation signed under another root is refused', () => {
    const foreign = authority();
    const cid = makeConfirmation(iid, foreign.offline, now);
    // the foreign issuer is not known here at all
    assert.equal(
      codeOf(() => verifyOfflineConfirmation(cid.text, iid, [a.issuerJws], a.roots)).code,
      'CONFIRMATION_UNTRUSTED',
    );
    // nor does its certificate chain to our root
    assert.equal(
      codeOf(() => verifyOfflineConfirmation(cid.text, iid, [foreign.issuerJws], a.roots)).code,
      'CHAIN_UNTRUSTED_ROOT',
    );
  });

  test('a signature made after the offline issuing key expired is refused', () => {
    const cid = makeConfirmation(iid, a.offline, now + 800 * DAY);
    assert.equal(codeOf(() => verifyOfflineConfirmation(cid.text, iid, [a.issuerJws], a.roots)).code, 'ISSUER_EXPIRED');
  });

  test('an offline host certificate yields the editions of its group from the signed catalog', () => {
    const catalogKey = generateKeyPair('iss-catalog');
    const catalogIssuer = signDocument(a.root, docTypes.issuer, 1, {
      kid: catalogKey.kid,
      purpose: 'catalog',
      publicKey: rawPublicKey(catalogKey.publicKey),
      root: a.root.kid,
      notBefore: now - DAY,
      notAfter: now + DAY,
    } satisfies IssuerCert);
    const catalog: Catalog = {
      serial: 1,
      issuedAt: now,
      products: [{ code: 'desk', name: 'Desk' }],
      editions: [
        { number: 101, code: 'desk-pro', name: 'Desk Pro', product: 'desk', kind: 'client', setupKey: 'X'.repeat(29) },
      ],
      groups: [{ number: 2, code: 'desk-2026', name: 'Desk 2026', kind: 'client', editions: [101] }],
    };
    const host = generateKeyPair('host');
    const hostIid = makeInstallationId(hostKey, { type: 'host', hostPublicKey: rawPublicKey(host.publicKey) });
    const cid = makeConfirmation(hostIid, a.offline, now);
    const certificate = offlineHostCertificate({
      iid: hostIid.publicForm.toString('base64url'),
      cid: cid.text,
      catalog: signDocument(catalogKey, docTypes.catalog, 1, catalog),
      catalogIssuer,
    });
    const v = verifyHostCert(certificate, a.issuerJws, a.roots, now);
    assert.equal(v.cert.hostPublicKey, rawPublicKey(host.publicKey));
    assert.deepEqual(
      v.cert.editions.map((e) => e.code),
      ['desk-pro'],
    );
    // the same certificate with another host's key inside is not covered by the signature
    const forged = offlineHostCertificate({
      iid: makeInstallationId(hostKey, {
        type: 'host',
        hostPublicKey: rawPublicKey(generateKeyPair('x').publicKey),
      }).publicForm.toString('base64url'),
      cid: cid.text,
      catalog: signDocument(catalogKey, docTypes.catalog, 1, catalog),
      catalogIssuer,
    });
    assert.equal(codeOf(() => verifyHostCert(forged, a.issuerJws, a.roots, now)).code, 'CONFIRMATION_MISMATCH');
  });
});
