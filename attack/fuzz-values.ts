/**
 * Hostile JSON values: wrong types, numbers at and past the edges (also texts JSON forbids),
 * strings with Unicode edge cases and bytes that are not UTF-8, hostile keys, deep nesting and
 * long arrays.
 */
import { Pairs, Raw } from './fuzz-json.js';
import type { Rng } from './fuzz-random.js';

/** Keys that mean something to JavaScript objects, or that look almost like real ones. */
export const HOSTILE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'then',
  'toJSON',
  'length',
  '',
  ' ',
  '\u0000',
  'v\u0000',
  'V',
  'v ',
  ' v',
  'machineid',
  'MachineId',
  'setup_key',
  '\ud800',
  '\u202ev',
  'ｖ',
  'v\u200b',
  '$where',
  '../',
  '%00',
  'constructor.prototype',
  '__proto__.polluted',
] as const;

/** Number texts: valid edges, and texts JSON does not allow (a parser must refuse them cleanly). */
export const NUMBER_TEXTS = [
  '0',
  '-0',
  '1',
  '-1',
  '0.5',
  '1.0',
  '1e0',
  '1E+2',
  '2147483648',
  '-2147483649',
  '4294967296',
  '9007199254740991',
  '9007199254740993',
  '-9007199254740993',
  '8640000000000001',
  '1e308',
  '1e309',
  '-1e309',
  '1e-400',
  '5e-324',
  '123456789012345678901234567890',
  '1' + '0'.repeat(400),
  '0.' + '0'.repeat(400) + '1',
  'NaN',
  'Infinity',
  '-Infinity',
  '+1',
  '01',
  '.5',
  '1.',
  '0x10',
  '1_000',
  '--1',
  '1e',
  '١',
  '１',
] as const;

/** Strings that break naive code: Unicode edges, control characters, injection shapes. */
const STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\t\n\r',
  '\u2028\u2029',
  '\ufeff',
  '\ufffe',
  '\uffff',
  '\ud800',
  '\udfff',
  '\udbff\udfff',
  '\ud83d\ude00',
  'e\u0301',
  '\u00e9',
  '\u202eevil',
  '\u200b',
  'Ω'.repeat(64),
  '𝕏'.repeat(40),
  '%00',
  '%s%n%x',
  '${7*7}',
  "'; DROP TABLE machines; --",
  '" OR 1=1 --',
  '<script>alert(1)</script>',
  '../../etc/passwd',
  'C:\\con\\aux',
  '\u001b[31mred',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  'NaN',
  '__proto__',
  '{"v":1}',
  '[]',
];

/** Byte sequences that are not UTF-8 (or are, but not the way a decoder should accept). */
export const BAD_UTF8 = [
  [0xff],
  [0xfe],
  [0x80],
  [0xbf],
  [0xc0, 0xaf],
  [0xc1, 0xbf],
  [0xe0, 0x80, 0xaf],
  [0xf0, 0x80, 0x80, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc3],
  [0xe2, 0x82],
  [0xf0, 0x9f, 0x98],
  [0xfc, 0x80, 0x80, 0x80, 0x80, 0xaf],
  [0xc0, 0x80],
  [0xef, 0xbf, 0xbe],
].map((b) => Buffer.from(b));

/** A JSON string token with non-UTF-8 bytes inside (before, after or instead of `text`). */
export function badUtf8String(rng: Rng, text = ''): Raw {
  const bad = rng.pick(BAD_UTF8);
  const at = rng.int(text.length + 1);
  const escaped = JSON.stringify(text).slice(1, -1);
  const cut = Math.min(at, escaped.length);
  return new Raw(Buffer.concat([Buffer.from('"' + escaped.slice(0, cut)), bad, Buffer.from(escaped.slice(cut) + '"')]));
}

export function hostileString(rng: Rng): unknown {
  switch (rng.int(6)) {
    case 0:
      return rng.pick(STRINGS);
    case 1:
      return rng.pick(STRINGS).repeat(rng.size(1, 2000));
    case 2:
      return 'x'.repeat(rng.size(0, 70_000));
    case 3:
      return badUtf8String(rng, rng.pick(STRINGS));
    case 4: // raw control characters JSON requires escaped
      return Raw.text('"a' + String.fromCharCode(rng.int(32)) + 'b"');
    default:
      return Raw.text('"' + rng.pick(['\\x41', '\\u00', '\\uZZZZ', '\\', '\\ud800\\u0041', '\\U0041', "\\'"]) + '"');
  }
}

/** A deep nest of arrays or objects, built as text (a value this deep could not be serialized). */
export function deepNest(rng: Rng, depth: number): Raw {
  if (rng.chance(0.5)) return Raw.text('['.repeat(depth) + ']'.repeat(depth));
  return Raw.text('{"a":'.repeat(depth) + '1' + '}'.repeat(depth));
}

/** A long array of small items. */
export function longArray(rng: Rng, n: number): Raw {
  const item = rng.pick(['0', '1', 'null', '""', '{}', '[]', '"x"', 'true']);
  return Raw.text('[' + Array(n).fill(item).join(',') + ']');
}

/** Any value of any type, with a bias to edges; `depth` bounds nesting of real values. */
export function hostileValue(rng: Rng, depth = 2): unknown {
  switch (rng.int(10)) {
    case 0:
      return rng.pick([null, true, false]);
    case 1:
    case 2:
      return Raw.text(rng.pick(NUMBER_TEXTS));
    case 3:
    case 4:
      return hostileString(rng);
    case 5:
      return depth > 0 ? Array.from({ length: rng.size(0, 5) }, () => hostileValue(rng, depth - 1)) : [];
    case 6:
      return depth > 0
        ? new Pairs(
            Array.from({ length: rng.size(0, 4) }, () => [rng.pick(HOSTILE_KEYS), hostileValue(rng, depth - 1)]),
          )
        : new Pairs([]);
    case 7:
      return deepNest(rng, rng.size(2, 100_000));
    case 8:
      return longArray(rng, rng.size(2, 100_000));
    default:
      return Raw.text(
        rng.pick(['{', '[', '"', '}', ']', ',', ':', '', 'tru', 'nul', 'undefined', "'x'", '/*c*/1', '0//', '"a" "b"']),
      );
  }
}
