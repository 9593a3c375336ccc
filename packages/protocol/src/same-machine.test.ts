import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SAME_MACHINE_TOLERANCE, identityHash, sameMachine, type Fingerprint } from './same-machine.js';

const before: Fingerprint = {
  osId: '5f1e0c7a9b2d4e6f8a1b3c5d7e9f0a1b',
  cpu: 'GenuineIntel-06-8F-8',
  board: 'ASUS-PRIME-Z790-SN12345',
  disks: ['nvme-SAMSUNG-S1', 'sata-WDC-W2'],
  nics: ['00:11:22:33:44:55', '00:11:22:33:44:66'],
};
const fp = (over: Partial<Fingerprint>): Fingerprint => ({ ...before, ...over });

describe('sameMachine', () => {
  test('an unchanged machine is the same with score 0', () => {
    assert.deepEqual(sameMachine(before, fp({})), { same: true, clone: false, score: 0, changed: [] });
  });

  test('replacing one disk is still the same machine', () => {
    const r = sameMachine(before, fp({ disks: ['nvme-SAMSUNG-S1', 'sata-NEW-9'] }));
    assert.deepEqual(r, { same: true, clone: false, score: 1, changed: ['disks'] });
  });

  test('replacing one NIC is still the same machine', () => {
    const r = sameMachine(before, fp({ nics: ['00:11:22:33:44:55', 'aa:bb:cc:dd:ee:ff'] }));
    assert.deepEqual(r, { same: true, clone: false, score: 1, changed: ['nics'] });
  });

  test('replacing one disk and one NIC is still the same machine, at the tolerance', () => {
    const r = sameMachine(
      before,
      fp({ disks: ['nvme-SAMSUNG-S1', 'sata-NEW-9'], nics: ['aa:bb:cc:dd:ee:ff', '00:11:22:33:44:66'] }),
    );
    assert.equal(r.same, true);
    assert.equal(r.clone, false);
    assert.equal(r.score, SAME_MACHINE_TOLERANCE);
    assert.deepEqual(r.changed, ['disks', 'nics']);
  });

  test('a new board is not the same machine', () => {
    const r = sameMachine(before, fp({ board: 'MSI-B650-SN999' }));
    assert.equal(r.same, false);
    assert.equal(r.clone, false);
    assert.deepEqual(r.changed, ['board']);
    assert.ok(r.score > SAME_MACHINE_TOLERANCE);
  });

  test('a new CPU together with a new disk is not the same machine', () => {
    const r = sameMachine(before, fp({ cpu: 'AuthenticAMD-19-61-2', disks: ['nvme-NEW'] }));
    assert.equal(r.same, false);
    assert.deepEqual(r.changed, ['cpu', 'disks']);
  });

  test('a different OS identity is a clone even with identical hardware', () => {
    const r = sameMachine(before, fp({ osId: 'ffffffffffffffffffffffffffffffff' }));
    assert.equal(r.same, false);
    assert.equal(r.clone, true);
    assert.deepEqual(r.changed, ['osId']);
  });

  test('the order of disks and NICs does not count as a change', () => {
    const r = sameMachine(before, fp({ disks: [...before.disks].reverse(), nics: [...before.nics].reverse() }));
    assert.deepEqual(r, { same: true, clone: false, score: 0, changed: [] });
  });

  test('is symmetric for a one-disk replacement', () => {
    const after = fp({ disks: ['nvme-SAMSUNG-S1', 'sata-NEW-9'] });
    assert.deepEqual(sameMachine(after, before), sameMachine(before, after));
  });
});

describe('identityHash', () => {
  test('is stable for the same OS identity and board and ignores disks and network cards', () => {
    const h = identityHash(before);
    assert.equal(identityHash(before), h);
    assert.equal(identityHash(fp({ disks: [], nics: [] })), h);
    assert.equal(identityHash({ osId: before.osId, board: before.board }), h);
  });

  test('tells apart clones that share an OS identity on other boards, but not an operator-set identity', () => {
    assert.notEqual(identityHash(fp({ board: 'other' })), identityHash(before));
    assert.equal(
      identityHash({ osId: 'identity:vdi-07', board: 'a' }),
      identityHash({ osId: 'identity:vdi-07', board: 'b' }),
    );
  });

  test('is a 43-character base64url SHA-256 that differs per OS identity and hides it', () => {
    const h = identityHash(before);
    assert.match(h, /^[A-Za-z0-9_-]{43}$/);
    assert.notEqual(identityHash(fp({ osId: before.osId + '0' })), h);
    assert.ok(!h.includes(before.osId));
    // pinned value: a change of the derivation would orphan every stored identity
    assert.equal(identityHash({ osId: 'machine', board: '' }), '4Yz7OQQ4PlCJneDfnTKH-StpJwpdVqIsufis5vSB_9c');
  });
});
