import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock, decodeKey, verifyCatalog, encodeKeyFields, generateKeyPair, rawPublicKey, verifyHostCert, type HostActivationRequest } from '@volact/protocol';
import { Authority } from './authority.js';
import { certifyIssuer, initKeys, loadKeys, loadRootPair } from './keys.js';
import { buildCatalog, sampleCatalogPath } from './catalog.js';
import { SqliteAuthorityStore } from './sqlite-store.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('authority', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-auth-unit-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const clock = new ManualClock(Date.UTC(2026, 2, 1));
  initKeys(join(dir, 'a'), clock.now());
  const keys = loadKeys(join(dir, 'a'));
  const store = new SqliteAuthorityStore(join(dir, 'a', 'authority.db'));
  const authority = new Authority(keys, store, clock);
  authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')));

  const hostRequest = (hostKey: string, pub = rawPublicKey(generateKeyPair('host').publicKey)): HostActivationRequest => ({
    v: 1,
    hostKey,
    hostPublicKey: pub,
    hostName: 'h1',
    requestId: randomBytes(16).toString('base64url'),
  });

  it('keeps secrets in 0600 files and refuses to overwrite an authority', () => {
    for (const f of ['root.key', 'mint.secret', 'issuers/host-cert.key']) assert.equal(statSync(join(dir, 'a', f)).mode & 0o777, 0o600, f);
    assert.throws(() => initKeys(join(dir, 'a'), clock.now()), code('AUTHORITY_EXISTS'));
  });

  it('answers a retry after a lost answer with the same certificate and uses nothing', () => {
    const key = authority.issueHostKey('desk-2026').key;
    const req = hostRequest(key);
    const first = authority.activateHost(req);
    const retry = authority.activateHost(req);
    assert.equal(retry.certificate, first.certificate);
    assert.equal(retry.activationsUsed, 1);
    const row = authority.listHostKeys().find((k) => key.endsWith(k.partial))!;
    assert.deepEqual([row.hostsUsed, row.usedActivations], [1, 1]);
    const again = authority.activateHost({ ...req, requestId: randomBytes(16).toString('base64url') });
    assert.deepEqual([again.hostsUsed, again.activationsUsed], [1, 2], 'the same host reactivating uses an activation, not a host slot');
    assert.throws(() => authority.activateHost({ ...hostRequest(key), requestId: req.requestId }), code('BAD_REQUEST'));
  });

  it('certifies the host key pair and exactly the editions of its product group', () => {
    const key = authority.issueHostKey('desk-2026').key;
    const req = hostRequest(key);
    const answer = authority.activateHost(req);
    const { cert } = verifyHostCert(answer.certificate, answer.issuer, [keys.root], clock.now());
    assert.equal(cert.hostPublicKey, req.hostPublicKey);
    assert.equal(cert.notAfter, null);
    assert.deepEqual(cert.editions.map((e) => e.code), ['desk-pro', 'desk-enterprise', 'desk-education']);
  });

  it('enforces 6 hosts and 10 activations per host key, with the counts in the error', () => {
    const key = authority.issueHostKey('server-2026', { maxHosts: 2, maxActivations: 3 }).key;
    authority.activateHost(hostRequest(key));
    const second = hostRequest(key);
    authority.activateHost(second);
    assert.throws(() => authority.activateHost(hostRequest(key)), (e: Error & { code?: string }) => e.code === 'KEY_LIMIT_HOSTS' && /2 of its 2 hosts/.test(e.message));
    authority.activateHost({ ...second, requestId: randomBytes(16).toString('base64url') });
    assert.throws(() => authority.activateHost({ ...second, requestId: randomBytes(16).toString('base64url') }), code('KEY_LIMIT_ACTIVATIONS'));
  });

  it('answers "unknown key" for a well-formed key it never issued, and a typo for a typo', () => {
    const issued = decodeKey(authority.issueHostKey('desk-2026').key);
    const forged = encodeKeyFields({ ...issued, serial: issued.serial ^ 1n });
    assert.throws(() => authority.activateHost(hostRequest(forged)), code('KEY_UNKNOWN'));
    const other = new Authority({ ...keys, mintSecret: randomBytes(32) }, store, clock);
    assert.throws(() => other.activateHost(hostRequest(issued.canonical)), code('KEY_UNKNOWN'));
    const typo = issued.canonical.slice(0, -1) + (issued.canonical.endsWith('2') ? '3' : '2');
    assert.throws(() => authority.activateHost(hostRequest(typo)), code('KEY_TYPO'));
    assert.throws(() => authority.issueHostKey('no-such-group'), code('GROUP_UNKNOWN'));
    assert.throws(() => authority.issueHostKey('desk-2026', { maxHosts: 0 }), code('VALUE_OUT_OF_RANGE'));
  });

  it('refuses catalogs that break the product group rules', () => {
    const sample = JSON.parse(readFileSync(sampleCatalogPath(), 'utf8'));
    const clientGroupWithServer = structuredClone(sample);
    clientGroupWithServer.groups[0].editions.push('server-standard');
    assert.throws(() => buildCatalog(clientGroupWithServer, keys.mintSecret, 1, 0), (e: Error & { code?: string }) => e.code === 'CATALOG_INVALID' && /client group desk-2026 cannot activate server edition/.test(e.message));
    const dup = structuredClone(sample);
    dup.products[1].editions[0].number = 101;
    assert.throws(() => buildCatalog(dup, keys.mintSecret, 1, 0), code('CATALOG_INVALID'));
    assert.throws(() => buildCatalog({ products: [], groups: [] }, keys.mintSecret, 1, 0), code('CATALOG_INVALID'));
    assert.throws(() => buildCatalog({ ...sample, extra: 1 }, keys.mintSecret, 1, 0), code('CATALOG_INVALID'));
  });

  it('keeps serving a verifiable catalog after its issuing key is rotated, without a new import', () => {
    clock.advance(90 * 86_400_000); // long after the import: the new key did not exist then
    certifyIssuer(join(dir, 'a'), loadRootPair(join(dir, 'a')), 'catalog', clock.now());
    const rotated = new Authority(loadKeys(join(dir, 'a')), store, clock);
    const answer = rotated.activateHost(hostRequest(rotated.issueHostKey('desk-2026').key));
    const catalog = verifyCatalog(answer.catalog, answer.catalogIssuer, [keys.root]);
    assert.equal(catalog.serial, authority.catalog().catalog.serial);
    assert.notEqual(answer.catalogIssuer, authority.catalog().issuer);
  });

  it('mints the same setup keys when the catalog is imported again', () => {
    const before = authority.catalog().catalog;
    const after = authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')));
    assert.equal(after.serial, before.serial + 1);
    assert.deepEqual(after.editions.map((e) => e.setupKey), before.editions.map((e) => e.setupKey));
  });
});
