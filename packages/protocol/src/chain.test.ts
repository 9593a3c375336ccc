import assert from 'node:assert/strict';
import { sign } from 'node:crypto';
import { describe, test } from 'node:test';
import { b64u, fromB64u } from './base64url.js';
import { verifyCatalog } from './catalog.js';
import { rootFromKey, type Root } from './chain.js';
import { DAY, HOUR, MINUTE } from './clock.js';
import {
  docTypes,
  type CountInsufficient,
  type Grant,
  type HostCert,
  type IssuerCert,
  type MakGrant,
  type Refusal,
} from './documents.js';
import { VolactError, type ErrorCode } from './errors.js';
import { verifyHostAnswer, type HostAnswerBundle } from './host-answer.js';
import { generateKeyPair, kidFor, rawPublicKey, signDocument, type KeyPair } from './jws.js';
import { verifyMakGrant } from './mak-grant.js';
import { hashedFingerprint, identityHash } from './same-machine.js';

const now = Date.UTC(2026, 2, 1, 12, 0, 0);
const machineId = 'machine-0001';
const nonce = 'nonce_0123456789abcdef';
const fingerprintHash = identityHash({ osId: 'a3f1c0de-machine-id', board: 'b1' });
const expect = { machineId, nonce, fingerprintHash, now };

const root = generateKeyPair('root');
const issuerKey = generateKeyPair('issuer');
const hostKey = generateKeyPair('host');
const roots: Root[] = [rootFromKey(root.publicKey)];

function issuerPayload(
  over: Partial<IssuerCert> = {},
  signingRoot: KeyPair = root,
  issuing: KeyPair = issuerKey,
): IssuerCert {
  return {
    kid: issuing.kid,
    purpose: 'host-cert',
    publicKey: rawPublicKey(issuing.publicKey),
    root: signingRoot.kid,
    notBefore: now - 90 * DAY,
    notAfter: now + 365 * DAY,
    ...over,
  };
}

function certPayload(over: Partial<HostCert> = {}, host: KeyPair = hostKey): HostCert {
  return {
    hostId: 'host-7f3a',
    hostKeyId: 'hostkey-01',
    hostPublicKey: rawPublicKey(host.publicKey),
    hostName: 'kms01.example.org',
    group: 'srv-2026',
    editions: [
      { number: 10, code: 'pro', name: 'Pro', kind: 'client' },
      { number: 20, code: 'datacenter', name: 'Datacenter', kind: 'server' },
    ],
    issuedAt: now - 10 * DAY,
    notAfter: null,
    activation: 1,
    ...over,
  };
}

const common = {
  machineId,
  nonce,
  edition: 10,
  hostId: 'host-7f3a',
  hostName: 'kms01.example.org',
  issuedAt: now - MINUTE,
  count: 25,
  required: 25,
  renewalMinutes: 7 * 24 * 60,
  retryMinutes: 120,
};

function grantPayload(over: Partial<Grant> = {}): Grant {
  return { ...common, fingerprintHash, validUntil: common.issuedAt + 180 * DAY, ...over };
}

const issuerJws = signDocument(root, docTypes.issuer, 1, issuerPayload());
const certJws = signDocument(issuerKey, docTypes.hostCert, 1, certPayload());
const grantJws = signDocument(hostKey, docTypes.grant, 1, grantPayload());
const bundle: HostAnswerBundle = { answer: grantJws, certificate: certJws, issuer: issuerJws };

const withAnswer = (answer: string): HostAnswerBundle => ({ ...bundle, answer });

const fails =
  (code: ErrorCode, params: Record<string, string | number> = {}) =>
  (e: unknown) => {
    if (!(e instanceof VolactError)) return false;
    assert.equal(e.code, code, `expected ${code}, got ${e.code}: ${e.message}`);
    for (const [k, v] of Object.entries(params)) assert.equal(e.params[k], v, `param ${k}`);
    return true;
  };

const parts = (jws: string) => jws.split('.') as [string, string, string];
const decodePart = (part: string) => JSON.parse(fromB64u(part).toString('utf8')) as Record<string, unknown>;

/** Replaces the header, keeping payload and signature (no re-signing). */
function withHeader(jws: string, change: (h: Record<string, unknown>) => void): string {
  const [h, p, s] = parts(jws);
  const header = decodePart(h);
  change(header);
  return `${b64u(JSON.stringify(header))}.${p}.${s}`;
}

/** Replaces the payload, keeping header and signature (no re-signing). */
function withPayload(jws: string, payload: unknown): string {
  const [h, , s] = parts(jws);
  return `${h}.${b64u(JSON.stringify(payload))}.${s}`;
}

/** Signs any header as given: a forger who holds the key but bends the envelope. */
function signRaw(key: KeyPair, header: Record<string, unknown>, payload: unknown): string {
  const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(payload))}`;
  return `${input}.${sign(null, Buffer.from(input), key.privateKey).toString('base64url')}`;
}

/** A value of the same type that differs from `v`, so only the signature can catch it. */
function changed(v: unknown): unknown {
  if (typeof v === 'number') return v + 1;
  if (typeof v === 'string') return v.length > 1 ? v.slice(0, -1) + (v.endsWith('A') ? 'B' : 'A') : v + 'x';
  if (v === null) return 0;
  if (Array.isArray(v)) return v.slice(1);
  throw new Error(`no change for ${JSON.stringify(v)}`);
}

describe('host answer chain: accepted answers', () => {
  test('accepts a grant chained to the pinned root and returns its fields', () => {
    const verified = verifyHostAnswer(bundle, roots, expect);
    assert.equal(verified.kind, 'grant');
    assert.ok(verified.kind === 'grant');
    assert.deepEqual(verified.grant, grantPayload());
    assert.equal(verified.chain.cert.hostId, 'host-7f3a');
    assert.equal(verified.chain.issuer.kid, issuerKey.kid);
    assert.equal(verified.chain.hostKid, hostKey.kid);
    assert.equal(hostKey.kid, kidFor('host', hostKey.publicKey));
  });

  test('accepts the grant when the pinned roots also list a next root', () => {
    const next = rootFromKey(generateKeyPair('root').publicKey);
    assert.equal(verifyHostAnswer(bundle, [next, ...roots], expect).kind, 'grant');
  });

  test('verifies a count-insufficient answer as kind countInsufficient with count and required', () => {
    const answer: CountInsufficient = { ...common, count: 3, required: 25 };
    const verified = verifyHostAnswer(
      withAnswer(signDocument(hostKey, docTypes.countInsufficient, 1, answer)),
      roots,
      expect,
    );
    assert.equal(verified.kind, 'countInsufficient');
    assert.ok(verified.kind === 'countInsufficient');
    assert.equal(verified.answer.count, 3);
    assert.equal(verified.answer.required, 25);
    assert.equal(verified.answer.retryMinutes, 120);
  });

  test('verifies a refusal as kind refusal with its code', () => {
    const answer: Refusal = { ...common, edition: 99, code: 'EDITION_NOT_COVERED' };
    const verified = verifyHostAnswer(withAnswer(signDocument(hostKey, docTypes.refusal, 1, answer)), roots, expect);
    assert.equal(verified.kind, 'refusal');
    assert.ok(verified.kind === 'refusal');
    assert.equal(verified.answer.code, 'EDITION_NOT_COVERED');
    assert.equal(verified.answer.edition, 99);
  });

  test('accepts a grant issued exactly 4 hours from the client clock', () => {
    for (const issuedAt of [now - 4 * HOUR, now + 4 * HOUR]) {
      const answer = signDocument(
        hostKey,
        docTypes.grant,
        1,
        grantPayload({ issuedAt, validUntil: issuedAt + 180 * DAY }),
      );
      assert.equal(verifyHostAnswer(withAnswer(answer), roots, expect).kind, 'grant');
    }
  });
});

describe('host answer chain: tampered envelopes', () => {
  test('refuses a grant with any payload field changed after signing (SIGNATURE_INVALID)', () => {
    const payload = grantPayload();
    for (const field of Object.keys(payload) as (keyof Grant)[]) {
      const forged = withPayload(grantJws, { ...payload, [field]: changed(payload[field]) });
      assert.throws(
        () => verifyHostAnswer(withAnswer(forged), roots, expect),
        fails('SIGNATURE_INVALID', { type: docTypes.grant }),
        `field ${field}`,
      );
    }
  });

  test('refuses a host certificate with any field changed after signing (SIGNATURE_INVALID)', () => {
    const payload = certPayload();
    for (const field of Object.keys(payload) as (keyof HostCert)[]) {
      const forged = withPayload(certJws, { ...payload, [field]: changed(payload[field]) });
      assert.throws(
        () => verifyHostAnswer({ ...bundle, certificate: forged }, roots, expect),
        fails('SIGNATURE_INVALID', { type: docTypes.hostCert }),
        `field ${field}`,
      );
    }
    // widening the editions (the profitable forgery) is caught the same way
    const wider = withPayload(certJws, {
      ...payload,
      editions: [...payload.editions, { number: 30, code: 'ent', name: 'Enterprise', kind: 'client' }],
    });
    assert.throws(() => verifyHostAnswer({ ...bundle, certificate: wider }, roots, expect), fails('SIGNATURE_INVALID'));
  });

  test('refuses an issuer certificate with any field changed after signing (SIGNATURE_INVALID)', () => {
    const payload = issuerPayload();
    for (const field of Object.keys(payload) as (keyof IssuerCert)[]) {
      const value = field === 'purpose' ? 'catalog' : changed(payload[field]);
      const forged = withPayload(issuerJws, { ...payload, [field]: value });
      assert.throws(
        () => verifyHostAnswer({ ...bundle, issuer: forged }, roots, expect),
        fails('SIGNATURE_INVALID', { type: docTypes.issuer }),
        `field ${field}`,
      );
    }
  });

  test('refuses a grant whose signature bytes were changed (SIGNATURE_INVALID)', () => {
    const [h, p, s] = parts(grantJws);
    const sig = fromB64u(s);
    sig[10]! ^= 1;
    assert.throws(
      () => verifyHostAnswer(withAnswer(`${h}.${p}.${sig.toString('base64url')}`), roots, expect),
      fails('SIGNATURE_INVALID'),
    );
    assert.throws(
      () => verifyHostAnswer(withAnswer(`${h}.${p}.${b64u(sig.subarray(0, 63))}`), roots, expect),
      fails('SIGNATURE_INVALID'),
    );
  });

  test('refuses a header whose alg was changed (ENVELOPE_ALG), signed or not', () => {
    for (const alg of ['none', 'HS256', 'ES256', 'eddsa', 'Ed25519', '']) {
      const tampered = withHeader(grantJws, (h) => (h.alg = alg));
      assert.throws(
        () => verifyHostAnswer(withAnswer(tampered), roots, expect),
        fails('ENVELOPE_ALG', { alg }),
        `tampered alg ${alg}`,
      );
      const resigned = signRaw(hostKey, { alg, typ: docTypes.grant, ver: 1, kid: hostKey.kid }, grantPayload());
      assert.throws(
        () => verifyHostAnswer(withAnswer(resigned), roots, expect),
        fails('ENVELOPE_ALG', { alg }),
        `re-signed alg ${alg}`,
      );
    }
    // on the certificate and the issuer too
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate: withHeader(certJws, (h) => (h.alg = 'none')) }, roots, expect),
      fails('ENVELOPE_ALG'),
    );
    assert.throws(
      () => verifyHostAnswer({ ...bundle, issuer: withHeader(issuerJws, (h) => (h.alg = 'none')) }, roots, expect),
      fails('ENVELOPE_ALG'),
    );
  });

  test('refuses an answer whose typ is not an answer type (DOCUMENT_TYPE), signed or not', () => {
    for (const typ of [
      docTypes.hostCert,
      docTypes.issuer,
      docTypes.catalog,
      'volact.grant2',
      'JWT',
      '__proto__',
      'constructor',
      'toString',
    ]) {
      const tampered = withHeader(grantJws, (h) => (h.typ = typ));
      assert.throws(
        () => verifyHostAnswer(withAnswer(tampered), roots, expect),
        fails('DOCUMENT_TYPE', { actual: typ }),
        `tampered typ ${typ}`,
      );
      const resigned = signRaw(hostKey, { alg: 'EdDSA', typ, ver: 1, kid: hostKey.kid }, grantPayload());
      assert.throws(
        () => verifyHostAnswer(withAnswer(resigned), roots, expect),
        fails('DOCUMENT_TYPE', { actual: typ }),
        `re-signed typ ${typ}`,
      );
    }
  });

  test('refuses a grant relabelled as another answer type without re-signing (SIGNATURE_INVALID)', () => {
    for (const typ of [docTypes.refusal, docTypes.countInsufficient]) {
      assert.throws(
        () => verifyHostAnswer(withAnswer(withHeader(grantJws, (h) => (h.typ = typ))), roots, expect),
        fails('SIGNATURE_INVALID', { type: typ }),
      );
    }
  });

  test('refuses a document version this release does not read (DOCUMENT_VERSION), signed or not', () => {
    for (const ver of [0, 2, 1.5, -1]) {
      const tampered = withHeader(grantJws, (h) => (h.ver = ver));
      assert.throws(
        () => verifyHostAnswer(withAnswer(tampered), roots, expect),
        fails('DOCUMENT_VERSION', { version: ver }),
        `tampered ver ${ver}`,
      );
      const resigned = signDocument(hostKey, docTypes.grant, ver, grantPayload());
      assert.throws(
        () => verifyHostAnswer(withAnswer(resigned), roots, expect),
        fails('DOCUMENT_VERSION', { version: ver }),
        `re-signed ver ${ver}`,
      );
    }
    const cert2 = signDocument(issuerKey, docTypes.hostCert, 2, certPayload());
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate: cert2 }, roots, expect),
      fails('DOCUMENT_VERSION', { type: docTypes.hostCert, version: 2 }),
    );
  });

  test('refuses a header with an unknown extra field (ENVELOPE_MALFORMED), signed or not', () => {
    const tampered = withHeader(grantJws, (h) => (h.jku = 'https://evil.example/keys'));
    assert.throws(() => verifyHostAnswer(withAnswer(tampered), roots, expect), fails('ENVELOPE_MALFORMED'));
    const resigned = signRaw(
      hostKey,
      { alg: 'EdDSA', typ: docTypes.grant, ver: 1, kid: hostKey.kid, crit: ['x'] },
      grantPayload(),
    );
    assert.throws(
      () => verifyHostAnswer(withAnswer(resigned), roots, expect),
      (e: unknown) =>
        e instanceof VolactError && e.code === 'ENVELOPE_MALFORMED' && String(e.params.detail).includes('crit'),
    );
  });

  test('refuses envelopes that are not three base64url JSON parts (ENVELOPE_MALFORMED)', () => {
    const [h, p, s] = parts(grantJws);
    for (const answer of [
      '',
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}.${b64u('not json')}.${s}`,
      `${b64u('[]')}.${p}.${s}`,
      `${b64u('{"alg":"EdDSA"}')}.${p}.${s}`,
    ]) {
      assert.throws(
        () => verifyHostAnswer(withAnswer(answer), roots, expect),
        fails('ENVELOPE_MALFORMED'),
        JSON.stringify(answer.slice(0, 40)),
      );
    }
    assert.throws(
      () => verifyHostAnswer(withAnswer(42 as unknown as string), roots, expect),
      fails('ENVELOPE_MALFORMED'),
    );
  });

  test('refuses a re-signed grant whose payload has an unknown field (DOCUMENT_INVALID naming it)', () => {
    const answer = signDocument(hostKey, docTypes.grant, 1, { ...grantPayload(), bonusEditions: [30] });
    assert.throws(
      () => verifyHostAnswer(withAnswer(answer), roots, expect),
      (e: unknown) =>
        e instanceof VolactError &&
        e.code === 'DOCUMENT_INVALID' &&
        e.params.type === docTypes.grant &&
        String(e.params.detail).includes('bonusEditions'),
    );
  });

  test('refuses a re-signed grant missing a field or with a field of the wrong type (DOCUMENT_INVALID)', () => {
    const { validUntil: _dropped, ...missing } = grantPayload();
    assert.throws(
      () => verifyHostAnswer(withAnswer(signDocument(hostKey, docTypes.grant, 1, missing)), roots, expect),
      fails('DOCUMENT_INVALID', { detail: 'validUntil is required' }),
    );
    const wrongType = { ...grantPayload(), edition: '10' };
    assert.throws(
      () => verifyHostAnswer(withAnswer(signDocument(hostKey, docTypes.grant, 1, wrongType)), roots, expect),
      fails('DOCUMENT_INVALID'),
    );
  });
});

describe('host answer chain: validly signed but wrong answers', () => {
  test('refuses a grant for another machine ID (ANSWER_MACHINE_MISMATCH)', () => {
    const answer = signDocument(hostKey, docTypes.grant, 1, grantPayload({ machineId: 'machine-0002' }));
    assert.throws(
      () => verifyHostAnswer(withAnswer(answer), roots, expect),
      fails('ANSWER_MACHINE_MISMATCH', { theirs: 'machine-0002', ours: machineId }),
    );
  });

  test('refuses a grant for other hardware (ANSWER_MACHINE_MISMATCH)', () => {
    const answer = signDocument(
      hostKey,
      docTypes.grant,
      1,
      grantPayload({ fingerprintHash: identityHash({ osId: 'another', board: 'b1' }) }),
    );
    assert.throws(
      () => verifyHostAnswer(withAnswer(answer), roots, expect),
      fails('ANSWER_MACHINE_MISMATCH', { ours: machineId }),
    );
  });

  test('refuses a replayed answer carrying another nonce (ANSWER_REPLAYED)', () => {
    assert.throws(
      () => verifyHostAnswer(bundle, roots, { ...expect, nonce: 'nonce_fedcba9876543210' }),
      fails('ANSWER_REPLAYED'),
    );
    const refusal = signDocument(hostKey, docTypes.refusal, 1, {
      ...common,
      nonce: 'nonce_old_old_old_old',
      code: 'CLOCK_SKEW',
    });
    assert.throws(() => verifyHostAnswer(withAnswer(refusal), roots, expect), fails('ANSWER_REPLAYED'));
  });

  test('refuses a grant naming another host than the certificate (HOST_CERT_MISMATCH)', () => {
    const answer = signDocument(hostKey, docTypes.grant, 1, grantPayload({ hostId: 'host-other' }));
    assert.throws(() => verifyHostAnswer(withAnswer(answer), roots, expect), fails('HOST_CERT_MISMATCH'));
  });

  test('refuses a grant signed by a host key other than the certified one (ISSUER_NOT_CERTIFIED)', () => {
    const rogueHost = generateKeyPair('host');
    const answer = signDocument(rogueHost, docTypes.grant, 1, grantPayload());
    assert.throws(
      () => verifyHostAnswer(withAnswer(answer), roots, expect),
      fails('ISSUER_NOT_CERTIFIED', { kid: rogueHost.kid }),
    );
    // claiming the certified host's kid does not help: the signature does not verify
    const claimed = signDocument({ ...rogueHost, kid: hostKey.kid }, docTypes.grant, 1, grantPayload());
    assert.throws(() => verifyHostAnswer(withAnswer(claimed), roots, expect), fails('SIGNATURE_INVALID'));
  });

  test('refuses a grant for an edition outside the host certificate (ANSWER_EDITION_NOT_CERTIFIED)', () => {
    const answer = signDocument(hostKey, docTypes.grant, 1, grantPayload({ edition: 30 }));
    assert.throws(
      () => verifyHostAnswer(withAnswer(answer), roots, expect),
      fails('ANSWER_EDITION_NOT_CERTIFIED', { edition: 30 }),
    );
    const count = signDocument(hostKey, docTypes.countInsufficient, 1, { ...common, edition: 30, count: 1 });
    assert.throws(
      () => verifyHostAnswer(withAnswer(count), roots, expect),
      fails('ANSWER_EDITION_NOT_CERTIFIED', { edition: 30 }),
    );
  });

  test('refuses a grant issued more than 4 hours from the client clock (CLOCK_SKEW)', () => {
    for (const [issuedAt, minutes] of [
      [now - 4 * HOUR - 1, 240],
      [now + 4 * HOUR + MINUTE, 241],
      [now - 2 * DAY, 2880],
    ] as const) {
      const answer = signDocument(hostKey, docTypes.grant, 1, grantPayload({ issuedAt }));
      assert.throws(
        () => verifyHostAnswer(withAnswer(answer), roots, expect),
        fails('CLOCK_SKEW', { minutes }),
        `issuedAt ${issuedAt - now}`,
      );
    }
    const count = signDocument(hostKey, docTypes.countInsufficient, 1, {
      ...common,
      issuedAt: now + 5 * HOUR,
      count: 1,
    });
    assert.throws(() => verifyHostAnswer(withAnswer(count), roots, expect), fails('CLOCK_SKEW', { minutes: 300 }));
  });

  test('refuses a grant that outlives its host certificate or ends before it starts (DOCUMENT_INVALID)', () => {
    const expiring = signDocument(issuerKey, docTypes.hostCert, 1, certPayload({ notAfter: now + 30 * DAY }));
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate: expiring }, roots, expect),
      fails('DOCUMENT_INVALID', { detail: 'grant outlives the host certificate' }),
    );
    for (const [over, detail] of [
      [{ count: 24 }, 'granted at count 24 of 25; a client edition needs 25'],
      [{ count: 5, required: 5 }, 'granted at count 5 of 5; a client edition needs 25'],
      [{ validUntil: common.issuedAt + 181 * DAY }, 'valid for longer than 180 days'],
    ] as const) {
      const rule = signDocument(hostKey, docTypes.grant, 1, grantPayload(over));
      assert.throws(() => verifyHostAnswer(withAnswer(rule), roots, expect), fails('DOCUMENT_INVALID', { detail }));
    }
    const backwards = signDocument(hostKey, docTypes.grant, 1, grantPayload({ validUntil: common.issuedAt }));
    assert.throws(
      () => verifyHostAnswer(withAnswer(backwards), roots, expect),
      fails('DOCUMENT_INVALID', { detail: 'validUntil is not after issuedAt' }),
    );
  });
});

describe('host answer chain: certificate and issuer', () => {
  test('refuses a host certificate chained to another root (CHAIN_UNTRUSTED_ROOT)', () => {
    const otherRoot = generateKeyPair('root');
    const otherIssuerKey = generateKeyPair('issuer');
    const otherIssuer = signDocument(otherRoot, docTypes.issuer, 1, issuerPayload({}, otherRoot, otherIssuerKey));
    const otherCert = signDocument(otherIssuerKey, docTypes.hostCert, 1, certPayload());
    assert.throws(
      () => verifyHostAnswer({ answer: grantJws, certificate: otherCert, issuer: otherIssuer }, roots, expect),
      fails('CHAIN_UNTRUSTED_ROOT', { kid: otherIssuerKey.kid, root: otherRoot.kid }),
    );
    // the same chain verifies when its own root is the pinned one
    assert.equal(
      verifyHostAnswer(
        { answer: grantJws, certificate: otherCert, issuer: otherIssuer },
        [rootFromKey(otherRoot.publicKey)],
        expect,
      ).kind,
      'grant',
    );
  });

  test('refuses an issuer signed by another root that claims the pinned root (SIGNATURE_INVALID)', () => {
    const otherRoot = generateKeyPair('root');
    const forged = signDocument({ ...otherRoot, kid: root.kid }, docTypes.issuer, 1, issuerPayload());
    assert.throws(
      () => verifyHostAnswer({ ...bundle, issuer: forged }, roots, expect),
      fails('SIGNATURE_INVALID', { type: docTypes.issuer }),
    );
  });

  test('refuses an issuer certificate that names another root in its payload (DOCUMENT_INVALID)', () => {
    const issuer = signDocument(root, docTypes.issuer, 1, issuerPayload({ root: 'root-somebodyelse' }));
    assert.throws(
      () => verifyHostAnswer({ ...bundle, issuer }, roots, expect),
      fails('DOCUMENT_INVALID', { type: docTypes.issuer }),
    );
  });

  test('refuses a grant presented as the certificate (DOCUMENT_TYPE)', () => {
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate: grantJws }, roots, expect),
      fails('DOCUMENT_TYPE', { expected: docTypes.hostCert, actual: docTypes.grant }),
    );
  });

  test('refuses a certificate in the issuer slot: untrusted root when issuer-signed, DOCUMENT_TYPE when root-signed', () => {
    // the certificate's kid is the issuing key, not a root: it is not trusted at all
    assert.throws(() => verifyHostAnswer({ ...bundle, issuer: certJws }, roots, expect), fails('CHAIN_UNTRUSTED_ROOT'));
    // a root-signed document of another type is refused by type
    const rootSignedCert = signDocument(root, docTypes.hostCert, 1, certPayload());
    assert.throws(
      () => verifyHostAnswer({ ...bundle, issuer: rootSignedCert }, roots, expect),
      fails('DOCUMENT_TYPE', { expected: docTypes.issuer, actual: docTypes.hostCert }),
    );
  });

  test('refuses a host certificate signed by the root directly (ISSUER_NOT_CERTIFIED)', () => {
    const certificate = signDocument(root, docTypes.hostCert, 1, certPayload());
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate }, roots, expect),
      fails('ISSUER_NOT_CERTIFIED', { kid: root.kid }),
    );
  });

  test('refuses a self-made host certificate signed by the host key (ISSUER_NOT_CERTIFIED)', () => {
    const certificate = signDocument(
      hostKey,
      docTypes.hostCert,
      1,
      certPayload({ editions: [{ number: 30, code: 'ent', name: 'Enterprise', kind: 'client' }] }),
    );
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate }, roots, expect),
      fails('ISSUER_NOT_CERTIFIED', { kid: hostKey.kid, type: docTypes.hostCert }),
    );
  });

  test('refuses an issuer certified for catalogs signing a host certificate (ISSUER_WRONG_PURPOSE)', () => {
    const issuer = signDocument(root, docTypes.issuer, 1, issuerPayload({ purpose: 'catalog' }));
    assert.throws(
      () => verifyHostAnswer({ ...bundle, issuer }, roots, expect),
      fails('ISSUER_WRONG_PURPOSE', { kid: issuerKey.kid, purpose: 'catalog', needed: 'host-cert' }),
    );
    // and the host-cert issuer cannot sign a catalog
    const catalog = signDocument(issuerKey, docTypes.catalog, 1, {
      serial: 1,
      issuedAt: now,
      products: [],
      editions: [],
      groups: [],
    });
    assert.throws(
      () => verifyCatalog(catalog, issuerJws, roots),
      fails('ISSUER_WRONG_PURPOSE', { purpose: 'host-cert', needed: 'catalog' }),
    );
  });

  test('refuses a host certificate issued outside its issuing key validity (ISSUER_EXPIRED)', () => {
    const certificate = signDocument(issuerKey, docTypes.hostCert, 1, certPayload({ issuedAt: now - 100 * DAY }));
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate }, roots, expect),
      fails('ISSUER_EXPIRED', { kid: issuerKey.kid }),
    );
  });

  test('accepts a certificate signed while the issuing key was valid, even after the key expired', () => {
    const issuer = signDocument(
      root,
      docTypes.issuer,
      1,
      issuerPayload({ notBefore: now - 400 * DAY, notAfter: now - 5 * DAY }),
    );
    assert.equal(verifyHostAnswer({ ...bundle, issuer }, roots, expect).kind, 'grant');
  });

  test('refuses a host certificate past its own expiry (ISSUER_EXPIRED)', () => {
    const certificate = signDocument(issuerKey, docTypes.hostCert, 1, certPayload({ notAfter: now - DAY }));
    assert.throws(
      () => verifyHostAnswer({ ...bundle, certificate }, roots, expect),
      fails('ISSUER_EXPIRED', { kid: 'host host-7f3a' }),
    );
  });
});

describe('MAK grant chain', () => {
  const makIssuer = generateKeyPair('iss-mak');
  const makIssuerJws = signDocument(root, docTypes.issuer, 1, issuerPayload({ purpose: 'mak-grant' }, root, makIssuer));
  const makGrant: MakGrant = {
    makId: 'MAK-0a1b2c3d',
    machineId,
    nonce,
    edition: 10,
    editionCode: 'pro',
    editionName: 'Pro',
    parts: hashedFingerprint({ osId: 'os-1', board: 'board-1', cpu: 'cpu-1', disks: ['disk-1'], nics: ['nic-1'] }),
    issuedAt: now - MINUTE,
    activationsUsed: 1,
    activationsLimit: 5,
  };
  const makGrantJws = signDocument(makIssuer, docTypes.makGrant, 1, makGrant);

  test('accepts a MAK grant for this machine, chained to the pinned root', () => {
    assert.deepEqual(verifyMakGrant(makGrantJws, makIssuerJws, roots, { machineId, nonce, now }), makGrant);
  });

  test('refuses a valid MAK grant for one machine verified as another (ANSWER_MACHINE_MISMATCH)', () => {
    // the same signed grant and nonce: only the machine differs, as with a license.json copied to another machine
    assert.throws(
      () => verifyMakGrant(makGrantJws, makIssuerJws, roots, { machineId: 'machine-0002', nonce, now }),
      fails('ANSWER_MACHINE_MISMATCH', { theirs: machineId, ours: 'machine-0002' }),
    );
  });
});
