import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VolactError } from '@volact/protocol';
import { createServer, type AddressInfo } from 'node:net';
import { bindRefused, connectDirectory, isLoopback, plainBindAllowed, referralUrls } from './ldap.js';
import { checkLdapUrl } from './ldap-url.js';
import { checkObjectName, containerDn, guidToString, objectDn } from './objects.js';

describe('directory connections', () => {
  test('loopback is 127.0.0.0/8 and ::1 (also IPv4-mapped); nothing else', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.equal(isLoopback(a), true, a);
    for (const a of ['10.0.0.1', '192.168.1.10', '::2', 'fe80::1', '::ffff:10.0.0.1', '128.0.0.1', '', 'localhost'])
      assert.equal(isLoopback(a), false, a);
  });

  test('a password goes in clear only to loopback or when forced; over TLS always', () => {
    assert.equal(plainBindAllowed(false, '192.0.2.10', false), false);
    assert.equal(plainBindAllowed(false, '192.0.2.10', true), true);
    assert.equal(plainBindAllowed(false, '127.0.0.1', false), true);
    assert.equal(plainBindAllowed(true, '192.0.2.10', false), true);
  });

  test('referral URLs are read out of an LDAP result (referral [3] SEQUENCE OF OCTET STRING)', () => {
    const uri = 'ldap://dc1.example.com:389/cn=x,dc=example,dc=com';
    const octets = Buffer.concat([Buffer.from([0x04, uri.length]), Buffer.from(uri, 'latin1')]);
    const referral = Buffer.concat([Buffer.from([0xa3, octets.length]), octets]);
    const result = Buffer.concat([Buffer.from([0x0a, 0x01, 0x0a, 0x04, 0x00, 0x04, 0x00]), referral]);
    const message = Buffer.concat([
      Buffer.from([0x30, result.length + 5, 0x02, 0x01, 0x05, 0x6b, result.length]),
      result,
    ]);
    assert.deepEqual(referralUrls(message), [uri]);
    assert.deepEqual(
      referralUrls(Buffer.from('no referral ldap:// here')),
      [],
      'a URL not framed as an OCTET STRING is ignored',
    );
    const long = `ldaps://dc1.example.com:636/cn=${'x'.repeat(200)},dc=example,dc=com`;
    assert.deepEqual(
      referralUrls(Buffer.concat([Buffer.from([0xa3, 0x82, 0x00, 0x00, 0x04, 0x81, long.length]), Buffer.from(long)])),
      [long],
      'long form length (81)',
    );
    const longer = `ldap://dc1.example.com/cn=${'y'.repeat(300)}`;
    const len = Buffer.alloc(2);
    len.writeUInt16BE(longer.length);
    assert.deepEqual(
      referralUrls(Buffer.concat([Buffer.from([0x04, 0x82]), len, Buffer.from(longer)])),
      [longer],
      'long form length (82)',
    );
  });
});

describe('directory answers', () => {
  test('only invalid credentials mean the account is refused; AD lockout and password expiry do not', () => {
    assert.equal(bindRefused(49, ''), true, 'OpenLDAP: removed account or wrong password');
    assert.equal(
      bindRefused(49, '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 52e, v4563'),
      true,
    );
    assert.equal(
      bindRefused(49, '80090308: LdapErr: DSID-0C09044E, comment: AcceptSecurityContext error, data 533, v4563'),
      true,
      'AD: disabled',
    );
    for (const sub of ['775', '532', '773'])
      assert.equal(bindRefused(49, `AcceptSecurityContext error, data ${sub}, v4563`), false, sub);
    for (const code of [13, 50, 51, 52, 53, 80]) assert.equal(bindRefused(code, ''), false, String(code));
  });

  test('URLs: ldap:// or ldaps:// with a host and a port in range, nothing else', () => {
    for (const ok of ['ldap://dc1.example.com', 'ldaps://dc1:636', 'ldap://127.0.0.1:389/', 'ldap://[::1]:389'])
      assert.ok(checkLdapUrl(ok));
    for (const bad of [
      'http://dc1',
      'ldap://dc1:99999',
      'ldap://dc1/dc=example',
      'ldap://user:pw@dc1',
      'ldap://dc1?x',
      'dc1',
      '',
    ]) {
      assert.throws(
        () => checkLdapUrl(bad),
        (e: unknown) => e instanceof VolactError && e.code === 'USAGE',
        bad,
      );
    }
  });

  test('a server that accepts StartTLS and then stalls the handshake times out; the next URL is tried', async () => {
    // answers the StartTLS request with success (an ExtendedResponse) and then says nothing more
    const stalled = createServer((sock) => {
      sock.once('data', (req: Buffer) =>
        sock.write(
          Buffer.from([0x30, 0x0c, 0x02, 0x01, req[4]!, 0x78, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]),
        ),
      );
    });
    await new Promise<void>((r) => stalled.listen(0, '127.0.0.1', r));
    const url = `ldap://127.0.0.1:${(stalled.address() as AddressInfo).port}`;
    const started = Date.now();
    try {
      await assert.rejects(
        connectDirectory({
          urls: [url, 'ldap://127.0.0.1:1'],
          base: 'dc=x',
          bindDn: 'cn=pc1',
          password: 'pw',
          timeoutMs: 500,
        }),
        (e: unknown) =>
          e instanceof VolactError && e.code === 'DIRECTORY_UNREACHABLE' && /timed out.*127\.0\.0\.1:1/.test(e.message),
      );
      // a bad URL is that URL's problem: the others are still tried, and the report names it
      await assert.rejects(
        connectDirectory({
          urls: ['ldap://bad:99999', url],
          base: 'dc=x',
          bindDn: 'cn=pc1',
          password: 'pw',
          timeoutMs: 500,
        }),
        (e: unknown) => e instanceof VolactError && e.code === 'USAGE' && /bad:99999/.test(e.message),
      );
      assert.ok(Date.now() - started < 5000, 'within the timeout, not forever');
    } finally {
      stalled.close();
    }
  });
});

describe('activation object names and places', () => {
  test('names: 1 to 40 characters of letters, digits, spaces and . _ -', () => {
    for (const ok of ['office-2026', 'A', 'Branch office 7', 'x'.repeat(40)]) assert.equal(checkObjectName(ok), ok);
    const refused = (name: string, detail: RegExp) =>
      assert.throws(
        () => checkObjectName(name),
        (e: unknown) => e instanceof VolactError && e.code === 'DIRECTORY_OBJECT_NAME' && detail.test(e.message),
        name,
      );
    refused('x'.repeat(41), /41 characters; at most 40/);
    refused('', /./);
    refused('office,cn=admin', /./); // a DN injection attempt
    refused('a*)(cn=*', /./); // a filter injection attempt
    refused(' leading', /./);
    refused('trailing ', /./);
    refused('名前', /./);
  });

  test('objects live in cn=Activation Objects,cn=volact,cn=Services under the suffix', () => {
    assert.equal(containerDn('dc=example,dc=com'), 'cn=Activation Objects,cn=volact,cn=Services,dc=example,dc=com');
    assert.equal(
      objectDn('dc=example,dc=com', 'office'),
      'cn=office,cn=Activation Objects,cn=volact,cn=Services,dc=example,dc=com',
    );
  });

  test("Active Directory's objectGUID bytes read as its GUID text (first three fields little-endian)", () => {
    const bytes = Buffer.from('33221100554477668899aabbccddeeff', 'hex');
    assert.equal(guidToString(bytes), '00112233-4455-6677-8899-aabbccddeeff');
  });
});
