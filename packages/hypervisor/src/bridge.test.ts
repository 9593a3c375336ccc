import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { VolactError } from '@volact/protocol';
import { ensureOnBridges, parseListen } from './bridge.js';

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
