import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { macFromIpNeigh, macFromProcArp, plainAddress } from './neighbours.js';

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
    assert.equal(macFromProcArp(procArp, '169.254.20.7'), '52:54:00:aa:bb:01');
    assert.equal(macFromProcArp(procArp, '192.168.1.1'), 'aa:bb:cc:dd:ee:ff');
    assert.equal(macFromProcArp(procArp, '169.254.20.8'), undefined);
    assert.equal(macFromProcArp(procArp, '169.254.20.70'), undefined);
    assert.equal(macFromProcArp('', '169.254.20.7'), undefined);
  });

  it('finds a usable IPv6 entry and ignores INCOMPLETE and FAILED', () => {
    assert.equal(macFromIpNeigh(ipNeigh, 'fe80::5054:ff:feaa:bb01'), '52:54:00:aa:bb:01');
    assert.equal(macFromIpNeigh(ipNeigh, 'FE80::1'), '00:15:5d:01:02:0a');
    assert.equal(macFromIpNeigh(ipNeigh, 'fe80::5054:ff:feaa:bb02'), undefined);
    assert.equal(macFromIpNeigh(ipNeigh, 'fe80::5054:ff:feaa:bb03'), undefined);
  });

  it('reads an IPv4-mapped source address as IPv4', () => {
    assert.equal(plainAddress('::ffff:169.254.20.7'), '169.254.20.7');
    assert.equal(plainAddress('fe80::1'), 'fe80::1');
  });
});
