import assert from 'node:assert/strict';
import { randomBytes, randomInt } from 'node:crypto';
import { describe, test } from 'node:test';
import { VolactError, type ErrorCode } from './errors.js';
import {
  KEY_ALPHABET,
  KEY_VERSION,
  decodeKey,
  encodeKeyFields,
  keyCheckValid,
  keyClasses,
  keyTagValid,
  mintKey,
  type KeyClass,
} from './key-codec.js';

const SERIAL_MASK = (1n << 55n) - 1n;
const TAG_MASK = (1n << 40n) - 1n;

const randomSerial = (): bigint => BigInt('0x' + randomBytes(7).toString('hex')) & SERIAL_MASK;
const randomTag = (): bigint => BigInt('0x' + randomBytes(5).toString('hex')) & TAG_MASK;
const randomClass = (): KeyClass => keyClasses[randomInt(keyClasses.length)]!;
const compactOf = (key: string): string => key.replace(/-/g, '');

const isCode = (code: ErrorCode) => (e: unknown) => e instanceof VolactError && e.code === code;

/** Every single-character substitution and every swap of two different neighbours. */
function* typosOf(compact: string): Generator<string> {
  for (let i = 0; i < compact.length; i++) {
    const head = compact.slice(0, i);
    const tail = compact.slice(i + 1);
    for (const ch of KEY_ALPHABET) if (ch !== compact[i]) yield head + ch + tail;
  }
  for (let i = 0; i + 1 < compact.length; i++) {
    if (compact[i] === compact[i + 1]) continue;
    yield compact.slice(0, i) + compact[i + 1] + compact[i] + compact.slice(i + 2);
  }
}

const secret = randomBytes(32);

describe('product key check character', () => {
  test('catches every single substitution and every neighbour swap across 10,000 random keys', () => {
    let variants = 0;
    for (let k = 0; k < 10_000; k++) {
      const compact = compactOf(mintKey(secret, randomClass(), randomInt(0x10000), randomSerial()));
      assert.equal(keyCheckValid(compact), true, `minted key ${compact} fails its own check`);
      for (const typo of typosOf(compact)) {
        variants++;
        if (keyCheckValid(typo)) assert.fail(`typo ${typo} of key ${compact} passes the check`);
      }
    }
    // 25 positions × 28 other characters per key, plus up to 24 swaps
    assert.ok(variants >= 10_000 * 25 * 28, `only ${variants} variants were tried`);
  });

  test('decodeKey reports KEY_TYPO for every substitution and neighbour swap of 200 random keys', () => {
    for (let k = 0; k < 200; k++) {
      const keyClass = randomClass();
      const key = mintKey(secret, keyClass, randomInt(0x10000), randomSerial());
      assert.equal(decodeKey(key).keyClass, keyClass);
      for (const typo of typosOf(compactOf(key))) {
        assert.throws(
          () => decodeKey(typo),
          isCode('KEY_TYPO'),
          `typo ${typo} of key ${key} was not reported as a typo`,
        );
      }
    }
  });

  test('keyCheckValid refuses wrong lengths, separators, lower case and look-alike characters', () => {
    const compact = compactOf(mintKey(secret, 'setup', 1, 1n));
    assert.equal(keyCheckValid(compact), true);
    assert.equal(keyCheckValid(compact.slice(1)), false);
    assert.equal(keyCheckValid(compact + '2'), false);
    assert.equal(keyCheckValid(mintKey(secret, 'setup', 1, 1n)), false, 'the hyphenated form is not compact');
    assert.equal(keyCheckValid(compact.toLowerCase()), false);
    for (const bad of ['O', 'I', 'B', 'S', 'Z', '0', '1', 'é'])
      assert.equal(keyCheckValid(bad + compact.slice(1)), false);
  });
});

describe('product key fields', () => {
  test('round-trips version, class, ref, serial and tag for every key class', () => {
    for (const keyClass of keyClasses) {
      for (const [ref, serial] of [
        [0, 0n],
        [0xffff, SERIAL_MASK],
        [randomInt(0x10000), randomSerial()],
        [randomInt(0x10000), randomSerial()],
      ] as const) {
        const key = mintKey(secret, keyClass, ref, serial);
        assert.match(key, /^[2-9A-Y]{5}(-[2-9A-Y]{5}){4}$/);
        const decoded = decodeKey(key);
        assert.equal(decoded.version, KEY_VERSION);
        assert.equal(decoded.keyClass, keyClass);
        assert.equal(decoded.ref, ref);
        assert.equal(decoded.serial, serial);
        assert.equal(decoded.canonical, key);
        assert.equal(keyTagValid(secret, decoded), true);
      }
    }
  });

  test('encodeKeyFields round-trips an arbitrary tag', () => {
    const fields = {
      version: KEY_VERSION,
      keyClass: 'mak' as const,
      ref: 77,
      serial: randomSerial(),
      tag: randomTag(),
    };
    const decoded = decodeKey(encodeKeyFields(fields));
    assert.deepEqual({ ...decoded, canonical: undefined }, { ...fields, canonical: undefined });
  });

  test('accepts lower case, spaces and missing hyphens, and returns the canonical form', () => {
    const key = mintKey(secret, 'host', 3, randomSerial());
    const spaced = compactOf(key)
      .toLowerCase()
      .replace(/(.{5})/g, '$1 ')
      .trim();
    for (const typed of [key.toLowerCase(), spaced, compactOf(key), `  ${key}\t`, key.replace(/-/g, ' - ')]) {
      const decoded = decodeKey(typed);
      assert.equal(decoded.canonical, key, `typed as ${JSON.stringify(typed)}`);
      assert.equal(decoded.keyClass, 'host');
      assert.equal(decoded.ref, 3);
    }
  });

  test('refuses a key of the wrong length with KEY_MALFORMED naming the length', () => {
    const compact = compactOf(mintKey(secret, 'setup', 5, randomSerial()));
    for (const typed of ['', compact.slice(0, 24), compact + 'A', compact.slice(0, 20), `${compact}${compact}`]) {
      assert.throws(
        () => decodeKey(typed),
        (e: unknown) =>
          e instanceof VolactError &&
          e.code === 'KEY_MALFORMED' &&
          e.params.length === typed.length &&
          e.message.includes(`this has ${typed.length}`),
      );
    }
  });

  test('refuses a look-alike character with KEY_BAD_CHARACTER naming its position and group', () => {
    const key = mintKey(secret, 'setup', 5, randomSerial());
    const compact = compactOf(key);
    for (const ch of ['O', 'I', 'B', 'S', 'Z', '0', '1']) {
      for (const i of [0, 4, 5, 12, 19, 20, 24]) {
        const typed = compact.slice(0, i) + ch + compact.slice(i + 1);
        assert.throws(
          () => decodeKey(typed),
          (e: unknown) =>
            e instanceof VolactError &&
            e.code === 'KEY_BAD_CHARACTER' &&
            e.params.position === i + 1 &&
            e.params.char === ch &&
            e.params.group === Math.floor(i / 5) + 1,
          `${ch} at position ${i + 1}`,
        );
      }
    }
    // lower-case look-alikes are upper-cased first and still named
    assert.throws(
      () => decodeKey('o' + compact.slice(1)),
      (e: unknown) =>
        e instanceof VolactError && e.code === 'KEY_BAD_CHARACTER' && e.params.char === 'O' && e.params.group === 1,
    );
  });

  test('reports a bad character before a check mismatch', () => {
    const compact = compactOf(mintKey(secret, 'vm', 9, randomSerial()));
    // position 1 is a look-alike and the check is also broken by it; the look-alike wins
    assert.throws(() => decodeKey('0' + compact.slice(1)), isCode('KEY_BAD_CHARACTER'));
  });
});

describe('product key tag', () => {
  test('is valid under the minting secret and invalid under another secret', () => {
    const other = randomBytes(32);
    for (const keyClass of keyClasses) {
      const decoded = decodeKey(mintKey(secret, keyClass, randomInt(0x10000), randomSerial()));
      assert.equal(keyTagValid(secret, decoded), true);
      assert.equal(keyTagValid(other, decoded), false);
    }
  });

  test('a well-formed key with a correct check but a random tag is not valid (an unknown key)', () => {
    for (let k = 0; k < 200; k++) {
      const keyClass = randomClass();
      const key = encodeKeyFields({
        version: KEY_VERSION,
        keyClass,
        ref: randomInt(0x10000),
        serial: randomSerial(),
        tag: randomTag(),
      });
      const decoded = decodeKey(key); // not a typo: the check character is right
      assert.equal(decoded.keyClass, keyClass);
      assert.equal(keyTagValid(secret, decoded), false, `random key ${key} passes the tag check`);
    }
  });

  test('a key whose fields were changed and re-rendered keeps the old tag and fails the tag check', () => {
    const decoded = decodeKey(mintKey(secret, 'setup', 10, randomSerial()));
    for (const change of [{ ref: 11 }, { keyClass: 'host' as const }, { serial: decoded.serial ^ 1n }]) {
      const forged = decodeKey(encodeKeyFields({ ...decoded, ...change }));
      assert.equal(keyTagValid(secret, forged), false, JSON.stringify(Object.keys(change)));
    }
  });

  test('a correctly checked key of a version or class never minted is KEY_UNKNOWN, not a typo', () => {
    const serial = randomSerial();
    assert.throws(
      () => decodeKey(encodeKeyFields({ version: 2, keyClass: 'setup', ref: 1, serial, tag: randomTag() })),
      isCode('KEY_UNKNOWN'),
    );
    assert.throws(
      () => decodeKey(encodeKeyFields({ version: 0, keyClass: 'setup', ref: 1, serial, tag: randomTag() })),
      isCode('KEY_UNKNOWN'),
    );
    // all-highest digits with a correct check: more than 116 bits, so the version bits are not 1
    const data = 'Y'.repeat(24);
    const check = [...KEY_ALPHABET].find((c) => keyCheckValid(data + c))!;
    assert.throws(() => decodeKey(data + check), isCode('KEY_UNKNOWN'));
  });
});
