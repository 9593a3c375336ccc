import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { VmGrant } from '@volact/protocol';
import { statusOptions } from './client-status.js';

const T0 = Date.UTC(2026, 0, 1);
const grant: VmGrant = {
  machineId: 'M-1',
  vmUuid: '4c4c4544-0042-3510-8052-b4c04f4e3232',
  fingerprintHash: 'A'.repeat(43),
  nonce: 'N'.repeat(24),
  edition: 201,
  editionCode: 'dc',
  editionName: 'Example Datacenter Guest',
  hypervisorId: 'VABCDEF123456',
  hypervisorName: 'hv01.example.test',
  issuedAt: T0,
  validUntil: T0 + 7 * 86_400_000,
  renewalMinutes: 1440,
};
const call = { option: 'ato', value: undefined, values: [] };

describe('-ato on a guest', () => {
  test('names the hypervisor, its ID, the agent and the expiry, in text and JSON, and exits 0', () => {
    const outcome = { kind: 'vmActivated', vmGrant: grant, host: '169.254.16.88:1689' };
    assert.equal(
      statusOptions.ato.render(outcome, call),
      'Product activated successfully by automatic VM activation: hypervisor hv01.example.test (ID VABCDEF123456, agent 169.254.16.88:1689); valid until 2026-01-08T00:00:00.000Z, renewed daily by the agent.',
    );
    assert.deepEqual(statusOptions.ato.json!(outcome, call), {
      outcome: 'vmActivated',
      agent: '169.254.16.88:1689',
      guestId: grant.vmUuid,
      hypervisorName: 'hv01.example.test',
      hypervisorId: 'VABCDEF123456',
      edition: 'dc',
      validUntil: '2026-01-08T00:00:00.000Z',
    });
    assert.equal(statusOptions.ato.exit!(outcome), 0);
  });
});
