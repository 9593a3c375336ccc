/**
 * Request bodies: a valid body (from the endpoint's seed) made wrong in one or a few ways, at the
 * level of its fields, its bytes, its encoding, or replaced as a whole.
 */
import { Pairs, Raw, serialize, toPairs } from './fuzz-json.js';
import type { Rng } from './fuzz-random.js';
import {
  BAD_UTF8,
  HOSTILE_KEYS,
  NUMBER_TEXTS,
  badUtf8String,
  deepNest,
  hostileString,
  hostileValue,
  longArray,
} from './fuzz-values.js';

export type Body = { bytes: Buffer; label: string };

/** Whole bodies that are not the document asked for. */
const REPLACEMENTS = [
  '',
  ' ',
  '\r\n',
  'null',
  'true',
  '0',
  '-0',
  '1e309',
  '""',
  '"x"',
  '[]',
  '{}',
  '[{}]',
  '{"v":1}',
  '{"v":1}{"v":1}',
  '{"v":1} x',
  '{"v":1,}',
  "{'v':1}",
  '{v:1}',
  '{"v":1 /* c */}',
  '{"v":1}\u0000',
  '\u0000',
  '\ufeff{}',
  '{"v":NaN}',
  '{"__proto__":{"admin":true}}',
  '{"constructor":{"prototype":{"admin":true}}}',
  '[1,2,3]',
  '{"a":1,"a":2}',
  '{',
  '}',
  '{"',
  '{"v"',
  '{"v":',
  '{"v":1',
  'nul',
  'undefined',
  'v=1&machineId=x',
  '--x\r\nContent-Disposition: form-data; name="v"\r\n\r\n1\r\n--x--',
  '<?xml version="1.0"?><v>1</v>',
];

/** One field path of the seed (top level, or one level down into an object member). */
function fieldPath(rng: Rng, top: Pairs): { holder: Pairs; index: number; name: string } | undefined {
  if (top.entries.length === 0) return undefined;
  const index = rng.int(top.entries.length);
  const [key, value] = top.entries[index]!;
  if (value instanceof Pairs && value.entries.length > 0 && rng.chance(0.5)) {
    const inner = fieldPath(rng, value);
    if (inner) return { ...inner, name: `${String(key)}.${inner.name}` };
  }
  return { holder: top, index, name: String(key) };
}

/** A value at the edge of what the field's current type allows, or just past it. */
function edgeOf(rng: Rng, value: unknown): unknown {
  if (typeof value === 'string') {
    return rng.pick([
      () => '',
      () => value.slice(0, Math.max(0, value.length - 1)),
      () => value + rng.pick(['x', '=', ' ', '-', '.', '\u00e9', '/']),
      () => value.repeat(rng.size(2, 2000)),
      () => value.toLowerCase(),
      () => ` ${value} `,
      () => badUtf8String(rng, value),
      () => value.replace(/-/g, ''),
      () => value.split('').reverse().join(''),
    ])();
  }
  if (typeof value === 'number') return Raw.text(rng.pick(NUMBER_TEXTS));
  if (typeof value === 'boolean') return rng.pick([0, 1, 'true', 'false', null, Raw.text('True'), Raw.text('tRUE')]);
  if (Array.isArray(value))
    return rng.pick([[], [...value, ...value], value.slice(1), longArray(rng, rng.size(2, 5000)), [value]]);
  return hostileValue(rng);
}

/** One structural change to `top` (in place); returns its label. */
function mutateOnce(rng: Rng, top: Pairs): string {
  const at = fieldPath(rng, top);
  if (!at) {
    top.entries.push([rng.pick(HOSTILE_KEYS), hostileValue(rng)]);
    return 'extra-key';
  }
  const entry = at.holder.entries[at.index]!;
  switch (
    rng.weighted([
      [5, 'wrong-type'],
      [5, 'edge'],
      [2, 'drop'],
      [3, 'extra-key'],
      [3, 'dup-key'],
      [3, 'unicode'],
      [1, 'nest'],
      [1, 'rename'],
    ] as const)
  ) {
    case 'wrong-type':
      entry[1] = hostileValue(rng);
      return `wrong-type ${at.name}`;
    case 'edge':
      entry[1] = edgeOf(rng, entry[1]);
      return `edge ${at.name}`;
    case 'drop':
      at.holder.entries.splice(at.index, 1);
      return `drop ${at.name}`;
    case 'extra-key': {
      const key = rng.pick(HOSTILE_KEYS);
      at.holder.entries.splice(rng.int(at.holder.entries.length + 1), 0, [key, hostileValue(rng)]);
      return `extra-key ${JSON.stringify(key)}`;
    }
    case 'dup-key': {
      const before = rng.chance(0.5);
      at.holder.entries.splice(before ? at.index : at.index + 1, 0, [entry[0], hostileValue(rng)]);
      return `dup-key ${at.name} ${before ? 'first' : 'last'}`;
    }
    case 'unicode':
      entry[1] = rng.chance(0.5)
        ? hostileString(rng)
        : badUtf8String(rng, typeof entry[1] === 'string' ? entry[1] : '');
      return `unicode ${at.name}`;
    case 'nest':
      entry[1] = deepNest(rng, rng.size(10, 20_000));
      return `nest ${at.name}`;
    case 'rename':
      entry[0] = rng.chance(0.5) ? String(entry[0]).toUpperCase() : badUtf8String(rng, String(entry[0]));
      return `rename ${at.name}`;
  }
}

/** Byte-level damage to a serialized body. */
function damageBytes(rng: Rng, bytes: Buffer): Body {
  const b = Buffer.from(bytes);
  const at = () => rng.int(Math.max(1, b.length));
  switch (rng.int(7)) {
    case 0:
      for (let i = rng.size(1, 8); i > 0 && b.length; i--) b[at()]! ^= 1 << rng.int(8);
      return { bytes: b, label: 'bytes flip' };
    case 1: {
      const i = at();
      return {
        bytes: Buffer.concat([
          b.subarray(0, i),
          rng.chance(0.5) ? rng.bytes(rng.size(1, 16)) : rng.pick(BAD_UTF8),
          b.subarray(i),
        ]),
        label: 'bytes insert',
      };
    }
    case 2: {
      const i = at();
      return { bytes: Buffer.concat([b.subarray(0, i), b.subarray(i + rng.size(1, 16))]), label: 'bytes delete' };
    }
    case 3:
      return { bytes: b.subarray(0, at()), label: 'bytes truncate' };
    case 4: {
      const i = at();
      const j = i + rng.size(1, 64);
      return { bytes: Buffer.concat([b.subarray(0, j), b.subarray(i, j), b.subarray(j)]), label: 'bytes duplicate' };
    }
    case 5:
      return {
        bytes: Buffer.concat([
          b,
          rng.pick([Buffer.from('\u0000'), Buffer.from(' x'), Buffer.from('}'), Buffer.from(b), rng.bytes(8)]),
        ]),
        label: 'bytes append',
      };
    default:
      return {
        bytes: Buffer.from(
          b.toString('latin1').replace(/[A-Za-z]/g, (c) => (rng.chance(0.1) ? c.toUpperCase() : c)),
          'latin1',
        ),
        label: 'bytes case',
      };
  }
}

/** The same document in an encoding the server does not speak (or with a BOM). */
function reencode(rng: Rng, text: string): Body {
  const kind = rng.pick(['utf16le', 'utf16be', 'utf16le-bom', 'utf8-bom', 'utf32le', 'latin1'] as const);
  const le = Buffer.from(text, 'utf16le');
  switch (kind) {
    case 'utf16le':
      return { bytes: le, label: 'encoding utf16le' };
    case 'utf16be':
      return { bytes: Buffer.from(le).swap16(), label: 'encoding utf16be' };
    case 'utf16le-bom':
      return { bytes: Buffer.concat([Buffer.from([0xff, 0xfe]), le]), label: 'encoding utf16le with BOM' };
    case 'utf8-bom':
      return {
        bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]),
        label: 'encoding utf8 with BOM',
      };
    case 'utf32le': {
      const out = Buffer.alloc(text.length * 4);
      for (let i = 0; i < text.length; i++) out.writeUInt32LE(text.charCodeAt(i), i * 4);
      return { bytes: out, label: 'encoding utf32le' };
    }
    case 'latin1':
      return {
        bytes: Buffer.from(text.replace(/"([^"]{1,40})"/, '"$1\u00e9\u00ff"'), 'latin1'),
        label: 'encoding latin1',
      };
  }
}

/** A body for one case: `seed` is the endpoint's valid body (undefined: the endpoint reads none). */
export function makeBody(rng: Rng, seed: Record<string, unknown> | undefined): Body {
  const valid = seed ? serialize(toPairs(seed)) : Buffer.alloc(0);
  const how = rng.weighted([
    [seed ? 6 : 1, 'valid'],
    [seed ? 30 : 0, 'fields'],
    [6, 'replace'],
    [3, 'value'],
    [seed ? 14 : 0, 'bytes'],
    [seed ? 4 : 0, 'encoding'],
    [seed ? 6 : 0, 'stack'],
    [2, 'garbage'],
  ] as const);
  switch (how) {
    case 'valid':
      return { bytes: valid, label: 'valid' };
    case 'fields':
    case 'stack': {
      const top = toPairs(seed) as Pairs;
      const labels = Array.from({ length: how === 'stack' ? rng.size(2, 5) : 1 }, () => mutateOnce(rng, top));
      return { bytes: serialize(top), label: labels.join(' + ') };
    }
    case 'replace': {
      const text = rng.pick(REPLACEMENTS);
      return { bytes: Buffer.from(text), label: `replace ${JSON.stringify(text.slice(0, 24))}` };
    }
    case 'value':
      return { bytes: serialize(hostileValue(rng)), label: 'value' };
    case 'bytes':
      return damageBytes(rng, valid);
    case 'encoding':
      return reencode(rng, valid.toString('utf8'));
    case 'garbage':
      return { bytes: rng.bytes(rng.size(1, 20_000)), label: 'garbage' };
  }
}

/** The valid body with one unknown member: refused by every schema, so nothing can be written. */
export function poisonedBody(seed: Record<string, unknown> | undefined): Buffer {
  return serialize(toPairs({ ...(seed ?? {}), fuzzUnknownField: 1 }));
}
