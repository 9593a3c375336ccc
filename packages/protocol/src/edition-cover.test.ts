import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootFromKey, type Root } from './chain.js';
import { DAY, MINUTE } from './clock.js';
import { docTypes, type Catalog, type Grant, type HostCert, type IssuerCert } from './documents.js';
import { editionCovered, type SignedCatalog } from './edition-cover.js';
import { VolactError, type ErrorCode } from './errors.js';
import { verifyHostAnswer, type HostAnswerBundle } from './host-answer.js';
import { hypervisorCertKind } from './host-cert.js';
import { generateKeyPair, rawPublicKey, signDocument, type KeyPair } from './jws.js';
import { identityHash } from './same-machine.js';
import { verifyHypervisorCert, verifyVmGrant } from './vm-grant.js';

const now = Date.UTC(2026, 2, 1, 12, 0, 0);
const root = generateKeyPair('root');
const roots: Root[] = [rootFromKey(root.publicKey)];
const certIssuerKey = generateKeyPair('issuer');
const catalogIssuerKey = generateKeyPair('issuer');
const hostKey = generateKeyPair('host');

const issuer = (purpose: IssuerCert['purpose'], key: KeyPair, signingRoot: KeyPair = root): string =>
  signDocument(signingRoot, docTypes.issuer, 1, {
    kid: key.kid,
    purpose,
    publicKey: rawPublicKey(key.publicKey),
    root: signingRoot.kid,
    notBefore: now - 90 * DAY,
    notAfter: now + 365 * DAY,
  } satisfies IssuerCert);

const setupKey = (n: number) => `AAAAA-AAAAA-AAAAA-AAAAA-${String(n).padStart(5, '0')}`;
const edition = (number: number, code: string, kind: 'client' | 'server', vmKey?: string) => ({
  number,
  code,
  name: code,
  product: 'os',
  kind,
  setupKey: setupKey(number),
  ...(vmKey ? { vmKey } : {}),
});

/** Catalog v2: group srv-2026 now also holds 30 (server, a guest edition) and 40 (client). */
const catalogV2: Catalog = {
  serial: 2,
  issuedAt: now - DAY,
  products: [{ code: 'os', name: 'OS' }],
  editions: [
    edition(10, 'pro', 'client'),
    edition(20, 'datacenter', 'server'),
    edition(30, 'standard', 'server', setupKey(99)),
    edition(40, 'education', 'client'),
    edition(50, 'other', 'client'),
  ],
  groups: [
    { number: 1, code: 'srv-2026', name: 'Server 2026', kind: 'server', editions: [10, 20, 30, 40] },
    { number: 2, code: 'other', name: 'Other', kind: 'client', editions: [50] },
  ],
};
const signedCatalog = (c: Catalog = catalogV2, by: KeyPair = catalogIssuerKey, signingRoot: KeyPair = root) => ({
  catalog: signDocument(by, docTypes.catalog, 1, c),
  issuer: issuer('catalog', by, signingRoot),
});
const catalog: SignedCatalog = signedCatalog();

const cert: HostCert = {
  hostId: 'host-7f3a',
  hostKeyId: 'hostkey-01',
  hostPublicKey: rawPublicKey(hostKey.publicKey),
  hostName: 'kms01.example.org',
  group: 'srv-2026',
  editions: [
    { number: 10, code: 'pro', name: 'Pro', kind: 'client' },
    { number: 20, code: 'datacenter', name: 'Datacenter', kind: 'server' },
  ],
  issuedAt: now - 10 * DAY,
  notAfter: null,
  activation: 1,
};

const fails = (code: ErrorCode) => (e: unknown) => {
  assert.ok(e instanceof VolactError, String(e));
  assert.equal(e.code, code, e.message);
  return true;
};

describe('editionCovered: the certificate binds its group, the catalog says what it holds', () => {
  test('covers an edition the certificate lists, with or without a catalog', () => {
    assert.equal(editionCovered(10, cert, undefined, roots)?.code, 'pro');
    assert.equal(editionCovered(20, cert, catalog, roots)?.kind, 'server');
  });

  test("covers an edition a verified catalog adds to the certificate's group, with the catalog's kind", () => {
    assert.deepEqual(editionCovered(30, cert, catalog, roots), {
      number: 30,
      code: 'standard',
      name: 'standard',
      kind: 'server',
    });
    assert.equal(editionCovered(40, cert, catalog, roots)?.kind, 'client');
  });

  test('covers no edition outside the certificate without a catalog', () => {
    assert.equal(editionCovered(30, cert, undefined, roots), undefined);
  });

  test('covers no edition of another group, nor one the catalog does not know', () => {
    assert.equal(editionCovered(50, cert, catalog, roots), undefined);
    assert.equal(editionCovered(77, cert, catalog, roots), undefined);
    assert.equal(editionCovered(30, { ...cert, group: 'gone' }, catalog, roots), undefined);
  });

  test('narrows what a catalog adds with the kind of certificate (guest editions need a VM key)', () => {
    assert.equal(editionCovered(30, cert, catalog, roots, hypervisorCertKind.covers)?.code, 'standard');
    assert.equal(editionCovered(40, cert, catalog, roots, hypervisorCertKind.covers), undefined);
  });

  test("refuses another publisher's catalog (CHAIN_UNTRUSTED_ROOT)", () => {
    const foreign = signedCatalog(catalogV2, catalogIssuerKey, generateKeyPair('root'));
    assert.throws(() => editionCovered(30, cert, foreign, roots), fails('CHAIN_UNTRUSTED_ROOT'));
  });

  test('refuses a catalog changed after signing (SIGNATURE_INVALID)', () => {
    const [h, , s] = catalog.catalog.split('.');
    const changed = { ...catalogV2, groups: [{ ...catalogV2.groups[0]!, editions: [10, 20, 30, 40, 50] }] };
    const forged = `${h}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${s}`;
    assert.throws(() => editionCovered(50, cert, { ...catalog, catalog: forged }, roots), fails('SIGNATURE_INVALID'));
  });
});

describe('verifyHostAnswer with a catalog', () => {
  const machineId = 'machine-0001';
  const nonce = 'nonce_0123456789abcdef';
  const fingerprintHash = identityHash({ osId: 'a3f1c0de-machine-id', board: 'b1' });
  const expect = { machineId, nonce, fingerprintHash, now };
  const grant = (over: Partial<Grant>): Grant => ({
    machineId,
    nonce,
    edition: 30,
    hostId: cert.hostId,
    hostName: cert.hostName,
    issuedAt: now - MINUTE,
    count: 5,
    required: 5,
    renewalMinutes: 7 * 24 * 60,
    retryMinutes: 120,
    fingerprintHash,
    validUntil: now - MINUTE + 180 * DAY,
    ...over,
  });
  const bundle = (g: Grant, c?: SignedCatalog): HostAnswerBundle => ({
    answer: signDocument(hostKey, docTypes.grant, 1, g),
    certificate: signDocument(certIssuerKey, docTypes.hostCert, 1, cert),
    issuer: issuer('host-cert', certIssuerKey),
    ...(c ? { catalog: c.catalog, catalogIssuer: c.issuer } : {}),
  });

  test("accepts a grant for an edition the catalog sent with it adds to the certificate's group", () => {
    const v = verifyHostAnswer(bundle(grant({}), catalog), roots, expect);
    assert.equal(v.kind === 'grant' && v.grant.edition, 30);
  });

  test('refuses a forged grant for an edition outside both certificate and catalog (ANSWER_EDITION_NOT_CERTIFIED)', () => {
    assert.throws(
      () => verifyHostAnswer(bundle(grant({ edition: 50, required: 25, count: 25 }), catalog), roots, expect),
      fails('ANSWER_EDITION_NOT_CERTIFIED'),
    );
    assert.throws(() => verifyHostAnswer(bundle(grant({})), roots, expect), fails('ANSWER_EDITION_NOT_CERTIFIED'));
  });

  test("keeps the threshold of the catalog's edition kind: a server edition granted at 1 is refused", () => {
    assert.throws(
      () => verifyHostAnswer(bundle(grant({ count: 1, required: 1 }), catalog), roots, expect),
      fails('DOCUMENT_INVALID'),
    );
  });

  test('refuses a grant whose catalog comes from another publisher (CHAIN_UNTRUSTED_ROOT)', () => {
    const foreign = signedCatalog(catalogV2, catalogIssuerKey, generateKeyPair('root'));
    assert.throws(() => verifyHostAnswer(bundle(grant({}), foreign), roots, expect), fails('CHAIN_UNTRUSTED_ROOT'));
  });
});

describe('verifyVmGrant with a catalog', () => {
  const hvIssuer = generateKeyPair('issuer');
  const agentKey = generateKeyPair('host');
  const vmUuid = '4c4c4544-0042-3510-8052-b7c04f4d3232';
  const fingerprintHash = identityHash({ osId: 'guest', board: vmUuid });
  const chain = verifyHypervisorCert(
    signDocument(hvIssuer, docTypes.hypervisorCert, 1, {
      ...cert,
      hostPublicKey: rawPublicKey(agentKey.publicKey),
      editions: [{ number: 20, code: 'datacenter', name: 'Datacenter', kind: 'server' }],
    }),
    issuer('hypervisor', hvIssuer),
    roots,
    now,
  );
  const grant = (edition: number) =>
    signDocument(agentKey, docTypes.vmGrant, 1, {
      machineId: 'guest-1',
      vmUuid,
      fingerprintHash,
      nonce: 'nonce_0123456789abcdef',
      edition,
      editionCode: 'e',
      editionName: 'e',
      hypervisorId: cert.hostId,
      hypervisorName: 'hv',
      issuedAt: now,
      validUntil: now + 7 * DAY,
      renewalMinutes: 60,
    });
  const expect = { machineId: 'guest-1', vmUuid, fingerprintHash, nonce: 'nonce_0123456789abcdef', now };

  test('accepts a grant for a guest edition the catalog adds to the certificate group', () => {
    assert.equal(verifyVmGrant(grant(30), chain, { ...expect, catalog: { signed: catalog, roots } }).edition, 30);
  });

  test('refuses a guest edition without the catalog, and an edition without a VM key even with it', () => {
    assert.throws(() => verifyVmGrant(grant(30), chain, expect), fails('ANSWER_EDITION_NOT_CERTIFIED'));
    assert.throws(
      () => verifyVmGrant(grant(40), chain, { ...expect, catalog: { signed: catalog, roots } }),
      fails('ANSWER_EDITION_NOT_CERTIFIED'),
    );
  });
});
