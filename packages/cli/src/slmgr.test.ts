import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseKms, parseSlmgr } from './slmgr.js';

const code = (c: string) => (e: unknown) => (e as { code?: string }).code === c;

describe('slmgr option parsing', () => {
  it('reads every -skms form an operator knows', () => {
    assert.deepEqual(parseKms('kms.example.com'), { host: 'kms.example.com', port: null });
    assert.deepEqual(parseKms('kms.example.com:1700'), { host: 'kms.example.com', port: 1700 });
    assert.deepEqual(parseKms(':1700'), { host: null, port: 1700 });
    assert.deepEqual(parseKms('[2001:db8::5]:1688'), { host: '2001:db8::5', port: 1688 });
    assert.deepEqual(parseKms('[::1]'), { host: '::1', port: null });
    assert.deepEqual(parseKms('2001:db8::5'), { host: '2001:db8::5', port: null });
    assert.deepEqual(parseKms('::1'), { host: '::1', port: null });
    assert.deepEqual(parseKms('127.0.0.1:16880'), { host: '127.0.0.1', port: 16880 });
  });

  it('refuses ports out of range and names that are not hosts', () => {
    assert.throws(() => parseKms('kms:0'), code('VALUE_OUT_OF_RANGE'));
    assert.throws(() => parseKms('kms:65536'), code('VALUE_OUT_OF_RANGE'));
    assert.throws(() => parseKms('kms:-1'), code('VALUE_OUT_OF_RANGE'));
    assert.throws(() => parseKms('kms host'), code('USAGE'));
    assert.throws(() => parseKms('[kms]:1688'), code('USAGE'));
    assert.throws(() => parseKms(':'), code('VALUE_OUT_OF_RANGE'));
  });

  it('takes one option per call, with / or -, case-insensitive, and says where an option belongs', () => {
    assert.deepEqual(parseSlmgr(['/IPK', 'K'], 'client'), { option: 'ipk', value: 'K', values: ['K'] });
    assert.deepEqual(parseSlmgr(['-dlv'], 'host'), { option: 'dlv', value: undefined, values: [] });
    assert.deepEqual(parseSlmgr(['-upd-catalog', '/tmp/volact-offline.json'], 'host'), {
      option: 'upd-catalog',
      value: '/tmp/volact-offline.json',
      values: ['/tmp/volact-offline.json'],
    });
    assert.deepEqual(parseSlmgr(['-upd-catalog'], 'hypervisor').option, 'upd-catalog');
    assert.throws(() => parseSlmgr(['-dli', '-dlv'], 'client'), code('USAGE'));
    assert.throws(() => parseSlmgr([], 'client'), code('USAGE'));
    assert.throws(
      () => parseSlmgr(['-sai', '60'], 'client'),
      (e: Error) => /add --host DIR/.test(e.message),
    );
    assert.throws(
      () => parseSlmgr(['-rearm'], 'host'),
      (e: Error) => /drop --host/.test(e.message),
    );
    assert.throws(
      () => parseSlmgr(['-ipk'], 'client'),
      (e: Error) => /takes one value/.test(e.message),
    );
  });

  it('acts on a hypervisor agent with its own options, and says where host-only ones belong', () => {
    assert.deepEqual(parseSlmgr(['-atp', 'ABC', 'DEF'], 'hypervisor'), {
      option: 'atp',
      value: 'ABCDEF',
      values: ['ABC', 'DEF'],
    });
    assert.deepEqual(parseSlmgr(['-dlv'], 'hypervisor').option, 'dlv');
    assert.throws(
      () => parseSlmgr(['-sai', '60'], 'hypervisor'),
      (e: Error) => /add --host DIR/.test(e.message),
    );
    assert.throws(
      () => parseSlmgr(['-rearm'], 'hypervisor'),
      (e: Error) => /drop --host and --hypervisor/.test(e.message),
    );
    assert.throws(
      () => parseSlmgr(['-bogus'], 'hypervisor'),
      (e: Error) => /known: -ipk -upk -ato -dti -atp -upd-catalog -dli -dlv -xpr/.test(e.message),
    );
  });

  it('directory options take their values: a key and an optional name; the key, a confirmation and an optional name', () => {
    assert.deepEqual(parseSlmgr(['-ad-activation-online', 'KEY'], 'client').values, ['KEY']);
    assert.deepEqual(parseSlmgr(['-AD-Activation-Online', 'KEY', 'office 2026'], 'client').values, [
      'KEY',
      'office 2026',
    ]);
    assert.throws(
      () => parseSlmgr(['-ad-activation-online'], 'client'),
      (e: Error) => /takes 1 to 2 values: -ad-activation-online HOST-KEY \[NAME\]/.test(e.message),
    );
    assert.throws(() => parseSlmgr(['-ad-activation-online', 'K', 'n', 'extra'], 'client'), code('USAGE'));
    assert.deepEqual(parseSlmgr(['-ad-activation-apply-cid', 'KEY', 'CID'], 'client').values, ['KEY', 'CID']);
    assert.throws(() => parseSlmgr(['-ad-activation-apply-cid', 'KEY'], 'client'), code('USAGE'));
    assert.deepEqual(parseSlmgr(['-act-type', '1'], 'client'), { option: 'act-type', value: '1', values: ['1'] });
    assert.throws(
      () => parseSlmgr(['-ao-list'], 'host'),
      (e: Error) => /drop --host/.test(e.message),
    );
  });
});
