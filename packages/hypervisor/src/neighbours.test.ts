import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { neighbourFromIpNeigh, neighbourFromProcArp, plainAddress } from './neighbours.js';

// as /proc/net/arp prints it (net/ipv4/arp.c): an incomplete entry has flags 0x0 and a zero MAC
const procArp = `IP address       HW type     Flags       HW address            Mask     Device
169.254.20.7     0x1         0x2         52:54:00:aa:bb:01     *        virbr0
169.254.20.8     0x1         0x0         00:00:00:00:00:00     *        virbr0
192.168.1.1      0x1         0x6         AA:BB:CC:DD:EE:FF     *        eth0
`;

const ipNeigh = `fe80::5054:ff:feaa:bb01 dev virbr0 lladdr 52:54:00:aa:bb:01 STALE
fe80::5054:ff:feaa:bb02 dev virbr0 INCOMPLETE
fe80::5054:ff:feaa:bb03 dev virbr0 lladdr 52:54:00:aa:bb:03 FAILED
fe80::1 dev eth0 lladdr 00:15:5D:01:02:0A router REACHABLE
`;

describe('neighbour table', () => {
  it('finds a complete IPv4 entry and ignores incomplete ones', () => {
    assert.deepEqual(neighbourFromProcArp(procArp, '169.254.20.7'), { mac: '52:54:00:aa:bb:01', device: 'virbr0' });
    assert.deepEqual(neighbourFromProcArp(procArp, '192.168.1.1'), { mac: 'aa:bb:cc:dd:ee:ff', device: 'eth0' });
    assert.equal(neighbourFromProcArp(procArp, '169.254.20.8'), undefined);
    assert.equal(neighbourFromProcArp(procArp, '169.254.20.70'), undefined);
    assert.equal(neighbourFromProcArp('', '169.254.20.7'), undefined);
  });

  it('finds a usable IPv6 entry and ignores INCOMPLETE and FAILED', () => {
    assert.deepEqual(neighbourFromIpNeigh(ipNeigh, 'fe80::5054:ff:feaa:bb01'), {
      mac: '52:54:00:aa:bb:01',
      device: 'virbr0',
    });
    assert.deepEqual(neighbourFromIpNeigh(ipNeigh, 'FE80::1'), { mac: '00:15:5d:01:02:0a', device: 'eth0' });
    assert.equal(neighbourFromIpNeigh(ipNeigh, 'fe80::5054:ff:feaa:bb02'), undefined);
    assert.equal(neighbourFromIpNeigh(ipNeigh, 'fe80::5054:ff:feaa:bb03'), undefined);
  });

  it('takes an IPv6 link-local entry only from the link the request came on', () => {
    assert.equal(neighbourFromIpNeigh(ipNeigh, 'fe80::1', 'virbr0'), undefined);
    assert.equal(neighbourFromIpNeigh(ipNeigh, 'fe80::1', 'eth0')?.mac, '00:15:5d:01:02:0a');
  });

  it('reads an IPv4-mapped source address as IPv4', () => {
    assert.equal(plainAddress('::ffff:169.254.20.7'), '169.254.20.7');
    assert.equal(plainAddress('fe80::1'), 'fe80::1');
  });
});
