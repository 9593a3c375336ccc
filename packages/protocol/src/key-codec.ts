import { createHmac } from 'node:crypto';
import { VolactError } from './errors.js';

/**
 * Product keys: 25 characters in five groups of five over a 29-character alphabet with no
 * look-alikes (no 0/O, 1/I/L-lowercase, 5/S, 8/B, 2/Z pairs: B, I, O, S and Z are left out).
 *
 * The 25th character is a check: sum(w_i * d_i) + check ≡ 0 (mod 29), weights 2..25 for the data and 1 for the check.
 * 29 is prime, so a single changed character changes the sum by w·δ ≢ 0, and a swap of
 * neighbours i, i+1 changes it by (w_i − w_{i+1})·δ = −δ ≢ 0: every such typo is caught.
 * (The check character has weight 1 and its left neighbour weight 25, still distinct.)
 *
 * The 24 data characters hold 116 bits: version (2) | class (3) | ref (16) | serial (55) | tag (40).
 * The tag is an HMAC under the authority's mint secret, so only the authority mints keys it accepts.
 */
export const KEY_ALPHABET = '23456789ACDEFGHJKLMNPQRTUVWXY';
const BASE = 29n;
const DATA_CHARS = 24;
export const KEY_VERSION = 1;

export const keyClasses = ['setup', 'host', 'mak', 'vm', 'datacenter'] as const;
export type KeyClass = (typeof keyClasses)[number];

export type KeyFields = {
  version: number;
  keyClass: KeyClass;
  /** Edition number for setup, VM keys and MAKs; product group number for host and datacenter keys. */
  ref: number;
  /** 55-bit serial, as a bigint. */
  serial: bigint;
  /** 40-bit tag, as a bigint. */
  tag: bigint;
};

export type DecodedKey = KeyFields & { canonical: string };

const SERIAL_BITS = 55n;
const TAG_BITS = 40n;
const mask = (bits: bigint) => (1n << bits) - 1n;

function checkDigit(digits: number[]): number {
  let sum = 0;
  for (let i = 0; i < DATA_CHARS; i++) sum += (i + 2) * digits[i]!;
  // weights 2..25 for data, 1 for the check; all distinct and non-zero mod 29
  return (29 - (sum % 29)) % 29;
}

function pack(f: Omit<KeyFields, 'tag'> & { tag: bigint }): bigint {
  let n = BigInt(f.version & 3);
  n = (n << 3n) | BigInt(keyClasses.indexOf(f.keyClass));
  n = (n << 16n) | BigInt(f.ref & 0xffff);
  n = (n << SERIAL_BITS) | (f.serial & mask(SERIAL_BITS));
  n = (n << TAG_BITS) | (f.tag & mask(TAG_BITS));
  return n;
}

function render(n: bigint): string {
  const digits: number[] = new Array(DATA_CHARS).fill(0);
  for (let i = DATA_CHARS - 1; i >= 0; i--) {
    digits[i] = Number(n % BASE);
    n /= BASE;
  }
  digits.push(checkDigit(digits));
  const chars = digits.map((d) => KEY_ALPHABET[d]).join('');
  return chars.match(/.{5}/g)!.join('-');
}

/** The tag binds the fields to the mint secret. */
export function keyTag(secret: Uint8Array, f: Omit<KeyFields, 'tag'>): bigint {
  const mac = createHmac('sha256', secret)
    .update(`volact-key/${f.version}/${f.keyClass}/${f.ref}/${f.serial.toString(16)}`)
    .digest();
  return BigInt('0x' + mac.subarray(0, 5).toString('hex'));
}

/** Mints a key; `serial` is 55 random (or derived) bits. */
export function mintKey(secret: Uint8Array, keyClass: KeyClass, ref: number, serial: bigint): string {
  if (!Number.isInteger(ref) || ref < 0 || ref > 0xffff) throw new RangeError(`key ref ${ref} out of range`);
  const fields = { version: KEY_VERSION, keyClass, ref, serial: serial & mask(SERIAL_BITS) };
  return render(pack({ ...fields, tag: keyTag(secret, fields) }));
}

const DIGIT_OF = new Int8Array(128).fill(-1);
for (let d = 0; d < KEY_ALPHABET.length; d++) DIGIT_OF[KEY_ALPHABET.charCodeAt(d)] = d;

/**
 * True when `compact` (25 upper-case alphabet characters, no separators) satisfies the check:
 * sum of (weight × digit) ≡ 0 (mod 29), weights 2..25 for the data and 1 for the check.
 * False for a wrong length or any character outside the alphabet. Pure and allocation-free.
 */
export function keyCheckValid(compact: string): boolean {
  if (compact.length !== DATA_CHARS + 1) return false;
  let sum = 0;
  for (let i = 0; i <= DATA_CHARS; i++) {
    const c = compact.charCodeAt(i);
    const d = c < 128 ? DIGIT_OF[c]! : -1;
    if (d < 0) return false;
    sum += (i === DATA_CHARS ? 1 : i + 2) * d;
  }
  return sum % 29 === 0;
}

/** Renders arbitrary fields with a correct check character (for tests and tools). */
export function encodeKeyFields(f: KeyFields): string {
  return render(pack(f));
}

/**
 * Parses a typed key. Typos are reported before anything else: a wrong length, a character
 * that never appears in keys (with its group), or a check mismatch. Lower case and spaces are
 * accepted; the canonical form is upper case with hyphens.
 */
export function decodeKey(input: string): DecodedKey {
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  if (compact.length !== 25) throw new VolactError('KEY_MALFORMED', { length: compact.length });
  const digits: number[] = [];
  for (let i = 0; i < 25; i++) {
    const d = KEY_ALPHABET.indexOf(compact[i]!);
    if (d < 0)
      throw new VolactError('KEY_BAD_CHARACTER', { position: i + 1, char: compact[i]!, group: Math.floor(i / 5) + 1 });
    digits.push(d);
  }
  if (!keyCheckValid(compact)) throw new VolactError('KEY_TYPO');
  let n = 0n;
  for (let i = 0; i < DATA_CHARS; i++) n = n * BASE + BigInt(digits[i]!);
  const tag = n & mask(TAG_BITS);
  n >>= TAG_BITS;
  const serial = n & mask(SERIAL_BITS);
  n >>= SERIAL_BITS;
  const ref = Number(n & 0xffffn);
  n >>= 16n;
  const classIndex = Number(n & 7n);
  const version = Number(n >> 3n);
  const keyClass = keyClasses[classIndex];
  // A class or version we never mint is a well-formed key nobody issued.
  if (!keyClass || version !== KEY_VERSION) throw new VolactError('KEY_UNKNOWN');
  return { version, keyClass, ref, serial, tag, canonical: compact.match(/.{5}/g)!.join('-') };
}

/** True when the key's tag was made with this mint secret. */
export function keyTagValid(secret: Uint8Array, k: DecodedKey): boolean {
  return keyTag(secret, k) === k.tag;
}

/** Shown in listings and status views: never the whole secret key. */
export function partialKey(canonical: string): string {
  return canonical.slice(-5);
}
