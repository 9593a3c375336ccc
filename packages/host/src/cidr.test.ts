import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultServedNetworks } from '@volact/protocol';
import { networkFilter } from './cidr.js';

describe('served networks', () => {
  const served = networkFilter(defaultServedNetworks);

  it('serves loopback and the private ranges by default, including IPv4-mapped addresses', () => {
    for (const a of [
      '127.0.0.1',
      '127.8.9.10',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.254',
      '192.168.1.1',
      '::1',
      'fd00::1',
      'fe80::1',
      '::ffff:10.0.0.7',
      '::ffff:127.0.0.1',
    ]) {
      assert.equal(served(a), true, a);
    }
  });

  it('does not serve public addresses by default', () => {
    for (const a of ['8.8.8.8', '172.32.0.1', '11.0.0.1', '2001:db8::1', '::ffff:8.8.8.8', '', undefined]) {
      assert.equal(served(a), false, String(a));
    }
  });

  it('refuses networks that are not in CIDR form', () => {
    for (const bad of ['10.0.0/8', '10.0.0.0', '10.0.0.0/33', '::1/129', 'x/8', '10.0.0.0/08', '10.0.0.0/-1']) {
      assert.throws(
        () => networkFilter([bad]),
        (e: { code?: string }) => e.code === 'USAGE',
        bad,
      );
    }
  });
});
