import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { recordHash } from './log-chain.js';

describe('host log record hash', () => {
  it('is the SHA-256 of the documented JSON array, whatever the strings hold', () => {
    const prev = randomBytes(32);
    for (const fields of [
      [1764925200000, 12290, 'a"b\\c\u2028\u{1F600}', 0, 'initialGrace', 101, 'activated', 30, 25, null],
      [1764925200000, 'renewalMinutes', null, '1440'],
    ]) {
      const documented = JSON.stringify(['volact.log/1', 'event', 7, prev.toString('base64url'), ...fields]);
      assert.deepEqual(recordHash('event', 7, prev, fields), createHash('sha256').update(documented).digest());
    }
  });

  it('differs when a field moves into its neighbour (the encoding is unambiguous)', () => {
    const prev = Buffer.alloc(32);
    assert.notDeepEqual(
      recordHash('setting', 1, prev, [1, 'ab', 'c', 'd']),
      recordHash('setting', 1, prev, [1, 'a', 'bc', 'd']),
    );
    assert.notDeepEqual(
      recordHash('setting', 1, prev, [1, 'a', null, 'd']),
      recordHash('setting', 1, prev, [1, 'a', 'null', 'd']),
    );
  });
});
