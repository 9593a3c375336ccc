import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { LicenseDetails } from '@volact/client';
import { expiryText, licenseText } from './license.js';

const licensed: LicenseDetails = {
  channel: 'VOLUME_HOSTCLIENT',
  partialKey: 'ABCDE',
  edition: { number: 101, code: 'pro', name: 'Example Pro' },
  licenseState: 'licensed',
  reason: 'activated by host kms01',
  endsAt: '2026-06-30T00:00:00.000Z',
  machineId: 'M-1',
  identity: null,
  activatedBy: { hostName: 'kms01', hostId: 'H-1', address: '10.0.0.5:1688', at: '2026-01-01T00:00:00.000Z' },
  validUntil: '2026-06-30T00:00:00.000Z',
  pinnedHost: '10.0.0.5:1688',
  discoveredHost: null,
  lookupDomain: null,
  lookupDomains: [],
  dnsServer: null,
  dnsServerFrom: null,
  hostCaching: true,
  pinnedPort: 1688,
  renewalMinutes: 10080,
  retryMinutes: 120,
  lastAnswer: { kind: 'grant', count: 30, required: 25, at: '2026-01-01T00:00:00.000Z', host: '10.0.0.5:1688' },
  mak: null,
  authorityUrl: null,
  activationType: 'all',
  directory: null,
  rearmsLeft: 5,
  trustedTime: '2026-01-01T00:00:00.000Z',
};

describe('license view', () => {
  test('-dli shows the channel, key, edition, state with its end, and the reason, and nothing of -dlv', () => {
    assert.equal(
      licenseText(licensed, false),
      [
        'Description: VOLUME_HOSTCLIENT channel',
        'Partial Product Key: ABCDE',
        'Edition: Example Pro (101)',
        'License Status: Licensed (ends 2026-06-30T00:00:00.000Z)',
        'Reason: activated by host kms01',
      ].join('\n'),
    );
  });

  test('-dlv adds the host that activated, the directory note only when there is one, and the trusted time last', () => {
    const lines = licenseText({ ...licensed, directory: null }, true).split('\n');
    assert.ok(lines.includes('Activated by host: kms01 (ID H-1) at 10.0.0.5:1688, 2026-01-01T00:00:00.000Z'));
    assert.ok(lines.includes("DNS server for SRV lookups: the system's resolver"));
    assert.ok(!lines.some((l) => l.startsWith('Directory activation not used')));
    assert.equal(lines.at(-1), 'Trusted time: 2026-01-01T00:00:00.000Z');
    const noted = licenseText(
      {
        ...licensed,
        directory: {
          urls: ['ldap://dc1'],
          base: 'dc=x',
          bindDn: 'cn=pc1,dc=x',
          tls: '',
          object: null,
          note: 'DIRECTORY_UNREACHABLE: down',
        },
      },
      true,
    );
    assert.match(noted, /^Directory: ldap:\/\/dc1 \(dc=x\) as cn=pc1,dc=x$/m);
    assert.match(noted, /^Directory activation not used: DIRECTORY_UNREACHABLE: down$/m);
  });

  test('-xpr says a MAK activation is permanent and a grace period when it ends', () => {
    assert.equal(expiryText({ ...licensed, endsAt: null }), 'The machine is permanently activated.');
    assert.equal(expiryText(licensed), 'Volume activation will expire 2026-06-30T00:00:00.000Z');
    assert.equal(
      expiryText({ ...licensed, licenseState: 'initialGrace', endsAt: '2026-01-31T00:00:00.000Z' }),
      'Initial grace period ends 2026-01-31T00:00:00.000Z',
    );
    assert.equal(expiryText({ ...licensed, licenseState: 'notification', endsAt: null }), 'Notification');
  });
});
