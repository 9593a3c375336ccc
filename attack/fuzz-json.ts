/**
 * JSON text the fuzzer can make wrong on purpose: objects as ordered pairs (so a key can appear
 * twice, and `__proto__` is an ordinary key), and raw pieces (number texts JSON does not allow,
 * bytes that are not UTF-8, nesting too deep to build as a value) spliced in as they are.
 */

/** Text or bytes written into the document verbatim. */
export class Raw {
  constructor(readonly bytes: Buffer) {}
  static text(s: string): Raw {
    return new Raw(Buffer.from(s, 'utf8'));
  }
}

/** An object as the ordered list of its members; duplicates allowed. */
export class Pairs {
  constructor(readonly entries: [string | Raw, unknown][]) {}
  static of(value: Record<string, unknown>): Pairs {
    return new Pairs(Object.entries(value));
  }
}

export type Json = unknown;

/** Plain objects become Pairs, recursively, so that mutations can work on any level. */
export function toPairs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toPairs);
  if (value && typeof value === 'object' && !(value instanceof Raw) && !(value instanceof Pairs)) {
    return new Pairs(Object.entries(value).map(([k, v]) => [k, toPairs(v)]));
  }
  return value;
}

/** Serializes a value that may hold Raw and Pairs; anything else as JSON.stringify writes it. */
export function serialize(value: unknown): Buffer {
  const out: Buffer[] = [];
  const write = (v: unknown): void => {
    if (v instanceof Raw) out.push(v.bytes);
    else if (v instanceof Pairs) {
      out.push(Buffer.from('{'));
      v.entries.forEach(([k, x], i) => {
        if (i > 0) out.push(Buffer.from(','));
        write(k);
        out.push(Buffer.from(':'));
        write(x);
      });
      out.push(Buffer.from('}'));
    } else if (Array.isArray(v)) {
      out.push(Buffer.from('['));
      v.forEach((x, i) => {
        if (i > 0) out.push(Buffer.from(','));
        write(x);
      });
      out.push(Buffer.from(']'));
    } else if (v === undefined) out.push(Buffer.from('null'));
    else out.push(Buffer.from(JSON.stringify(v), 'utf8'));
  };
  write(value);
  return Buffer.concat(out);
}
