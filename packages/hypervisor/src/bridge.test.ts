import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VolactError } from '@volact/protocol';
import { GuestInterfaces, ensureOnBridges, interfacesHolding, parseListen } from './bridge.js';

const usage = (pattern: RegExp) => (e: unknown) =>
  e instanceof VolactError && e.code === 'USAGE' && pattern.test(e.message);

describe('guest channel addresses', () => {
  it('parses --listen ADDRESS:PORT and refuses anything else', () => {
    assert.deepEqual(parseListen('169.254.16.88:1689'), { address: '169.254.16.88', port: 1689 });
    assert.deepEqual(parseListen('[fe80::1]:1689'), { address: 'fe80::1', port: 1689 });
    assert.throws(() => parseListen('169.254.16.88'), usage(/ADDRESS:PORT/));
    assert.throws(() => parseListen('agent.local:1689'), usage(/ADDRESS:PORT/));
    assert.throws(() => parseListen('169.254.16.88:70000'), usage(/ADDRESS:PORT/));
  });

  it('adds a missing address to each bridge, leaves a present one, and says clearly when ip fails', async () => {
    const calls: string[] = [];
    const shown: Record<string, string> = {
      virbr0: '5: virbr0    inet 192.168.122.1/24 brd 192.168.122.255 scope global virbr0\n',
      virbr1: '6: virbr1    inet 169.254.16.88/32 scope global virbr1\n',
    };
    const ip = async (args: string[]) => {
      calls.push(args.join(' '));
      if (args[1] === 'addr' && args[2] === 'show') {
        const text = shown[args[4]!];
        if (text === undefined) throw new Error(`Device "${args[4]}" does not exist.`);
        return text;
      }
      return '';
    };
    const added = await ensureOnBridges(['169.254.16.88', '0.0.0.0'], ['virbr0', 'virbr1'], ip);
    assert.deepEqual(added, ['169.254.16.88/32 on virbr0']);
    assert.deepEqual(calls, [
      '-o addr show dev virbr0',
      'addr add 169.254.16.88/32 dev virbr0',
      '-o addr show dev virbr1',
    ]);
    await assert.rejects(
      ensureOnBridges(['169.254.16.88'], ['nobr'], ip),
      usage(/--bridge nobr: Device "nobr" does not exist/),
    );
    const denied = async (args: string[]) => {
      if (args[0] === '-o') return '';
      throw new Error('RTNETLINK answers: Operation not permitted');
    };
    await assert.rejects(
      ensureOnBridges(['169.254.16.88'], ['virbr0'], denied),
      usage(
        /cannot put 169\.254\.16\.88 on bridge virbr0 .*Operation not permitted.*configure the address on the bridge yourself/,
      ),
    );
  });
});

// `ip -o addr show` as iproute2 prints it; br0 has no running VM (no carrier) yet
const ipAddr = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever
4: br0    inet 169.254.16.88/16 scope global br0\\       valid_lft forever preferred_lft forever
4: br0    inet6 fe80::56:41ff:fe00:1/64 scope link \\       valid_lft forever preferred_lft forever
7: vnet0@if6    inet6 fe80::fc54:ff:fe12:3456/64 scope link \\       valid_lft forever preferred_lft forever
`;

describe('the interfaces guests ask on', () => {
  it('are the ones holding a listen address, with or without carrier, and the bridges given', async () => {
    assert.deepEqual([...(await interfacesHolding(['169.254.16.88'], async () => ipAddr))], ['br0']);
    assert.deepEqual([...(await interfacesHolding(['fe80::fc54:ff:fe12:3456'], async () => ipAddr))], ['vnet0']);
    let now = 0;
    let reads = 0;
    const ifs = new GuestInterfaces(
      ['169.254.16.88'],
      ['virbr1'],
      async () => (reads++, ipAddr),
      () => now,
    );
    assert.equal(await ifs.has('virbr1'), true);
    assert.equal(await ifs.has('br0'), true);
    assert.equal(await ifs.has('eth0'), false);
    assert.equal(await ifs.has('eth0'), false);
    assert.equal(reads, 1, 'an unknown interface is looked up again at most every 5 s');
    now += 5_000;
    assert.equal(await ifs.has('eth0'), false);
    assert.equal(reads, 2);
  });
});
