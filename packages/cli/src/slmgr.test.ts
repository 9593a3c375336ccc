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
    assert.deepEqual(parseSlmgr(['/IPK', 'K'], false), { option: 'ipk', value: 'K' });
    assert.deepEqual(parseSlmgr(['-dlv'], true), { option: 'dlv', value: undefined });
    assert.throws(() => parseSlmgr(['-dli', '-dlv'], false), code('USAGE'));
    assert.throws(() => parseSlmgr([], false), code('USAGE'));
    assert.throws(() => parseSlmgr(['-sai', '60'], false), (e: Error) => /add --host DIR/.test(e.message));
    assert.throws(() => parseSlmgr(['-rearm'], true), (e: Error) => /drop --host/.test(e.message));
    assert.throws(() => parseSlmgr(['-ipk'], false), (e: Error) => /takes one value/.test(e.message));
  });
});
