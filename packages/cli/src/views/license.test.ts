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
  vm: null,
  vmAgent: null,
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

  test('-dlv shows the Automatic VM activation block for a VM grant, and -xpr names it', () => {
    const vm: LicenseDetails = {
      ...licensed,
      channel: 'VIRTUAL_MACHINE_ACTIVATION',
      activatedBy: null,
      vm: {
        guestId: '4c4c4544-0042-3510-8052-b4c04f4e3232',
        hypervisorName: 'hv01.example.test',
        hypervisorId: 'VABCDEF123456',
        activatedAt: '2026-01-01T00:00:00.000Z',
        validUntil: '2026-01-08T00:00:00.000Z',
        agent: '169.254.16.88:1689',
      },
      vmAgent: { address: '169.254.16.88:1689', from: 'default' },
    };
    const text = licenseText(vm, true);
    assert.match(text, /^Description: VIRTUAL_MACHINE_ACTIVATION channel$/m);
    assert.match(
      text,
      /^Automatic VM activation:\n {4}Guest ID: 4c4c4544-0042-3510-8052-b4c04f4e3232\n {4}Hypervisor host name: hv01\.example\.test\n {4}Activation time: 2026-01-01T00:00:00\.000Z\n {4}Hypervisor ID: VABCDEF123456\n {4}Valid until: 2026-01-08T00:00:00\.000Z\n {4}Agent address: 169\.254\.16\.88:1689$/m,
    );
    assert.ok(!text.includes('Pinned activation host'), 'a guest asks its agent, not activation hosts');
    assert.match(text, /^Renewal interval: 10080 minutes$/m);
    assert.ok(!licenseText(licensed, true).includes('Automatic VM activation'), 'no block without a VM key');
    assert.equal(
      expiryText({ ...vm, endsAt: '2026-01-08T00:00:00.000Z' }),
      'Automatic VM activation will expire 2026-01-08T00:00:00.000Z',
    );
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
