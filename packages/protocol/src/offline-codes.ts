import { createHash, createHmac, scryptSync, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';
import { VolactError } from './errors.js';
import { KEY_ALPHABET, keyClasses, type KeyFields } from './key-codec.js';
import type { HashedParts } from './documents.js';
import { sameMachine } from './same-machine.js';

/**
 * Offline ("phone") activation codes.
 *
 * An installation ID (IID) is what an air-gapped machine or host shows; the operator reads it to
 * the publisher, who answers with a confirmation ID (CID). Both are typed by people, so both are
 * written in the product-key alphabet in groups of up to seven characters plus one check
 * character per group: a typo is reported with the number of the group that holds it.
 *
 * IID bytes:  type (1) | key ID (10) | MAC (8) | machine data
 *   - key ID: the key's version, class, ref and serial (76 bits), never its secret tag;
 *   - MAC: HMAC-SHA256 over type, key ID and machine data, keyed by scrypt (N 2^14) of the
 *     product key: only someone holding the key can make an IID the authority accepts, and since
 *     a key's only secret is its 40-bit tag, the slow derivation makes a search of all tags
 *     against a published IID cost about a thousand CPU-years;
 *   - machine data: a host's (or hypervisor agent's) Ed25519 public key (32); a directory's ID (16, its entryUUID or
 *     objectGUID), for a directory activation object made offline; or for a MAK machine a 12-byte reference
 *     of its machine ID and 3-byte prefixes of its hashed OS identity, board, CPU, first disk and
 *     first network card (15): enough for the "same machine" rule, no serial numbers.
 * CID bytes:  type (1) | issuer tag (2) | day issued (2) | Ed25519 signature (64)
 *   The signature covers a canonical block: a domain string, the CID header, the key ID and the
 *   SHA-256 of the IID's public form (the IID with its MAC replaced by a hash of the MAC). Host
 *   certificates and stored licenses carry only the public form, never the MAC. It is verified against an issuing key certified by the pinned
 *   root; no shared secret exists that a customer could use to mint one.
 */

export const offlineTypes = { host: 1, mak: 2, directory: 3, hypervisor: 4 } as const;
export type OfflineType = keyof typeof offlineTypes;
const CODE_VERSION = 1;
const GROUP_DATA = 7;
const LOG2_29 = Math.log2(29);
export const KEY_ID_BYTES = 10;
const MAC_BYTES = 8;
const PART_BYTES = 3;
const MACHINE_REF_BYTES = 12;
const machineDataBytes: Record<OfflineType, number> = {
  host: 32,
  mak: MACHINE_REF_BYTES + 5 * PART_BYTES,
  directory: 16,
  hypervisor: 32,
};
const EPOCH = Date.UTC(2020, 0, 1);
const DAY_MS = 86_400_000;
export const SIGNATURE_BYTES = 64;
const CID_BYTES = 1 + 2 + 2 + SIGNATURE_BYTES;

type What = 'installation ID' | 'confirmation ID';

const DIGIT = new Int8Array(128).fill(-1);
for (let d = 0; d < KEY_ALPHABET.length; d++) DIGIT[KEY_ALPHABET.charCodeAt(d)] = d;

/** Data characters needed for n bytes: the smallest c with 29^c ≥ 256^n. */
function charsFor(bytes: number): number {
  return Math.ceil((bytes * 8) / LOG2_29 - 1e-9);
}

/** Check character of group g: weights 2..8 over the data, 1 for the check, plus the group number. */
function groupCheck(digits: number[], group: number): number {
  let sum = 7 * (group + 1);
  digits.forEach((d, i) => (sum += (i + 2) * d));
  return (29 - (sum % 29)) % 29;
}

/** Renders bytes as groups of seven characters, each followed by its check character. */
export function encodeCode(bytes: Uint8Array): string {
  let n = BigInt('0x' + (Buffer.from(bytes).toString('hex') || '0'));
  const count = charsFor(bytes.length);
  const digits: number[] = new Array(count).fill(0);
  for (let i = count - 1; i >= 0; i--) {
    digits[i] = Number(n % 29n);
    n /= 29n;
  }
  const groups: string[] = [];
  for (let g = 0; g * GROUP_DATA < count; g++) {
    const part = digits.slice(g * GROUP_DATA, (g + 1) * GROUP_DATA);
    groups.push([...part, groupCheck(part, g)].map((d) => KEY_ALPHABET[d]).join(''));
  }
  return groups.join('-');
}

/**
 * Reads a typed code back into bytes. Each group is checked on its own, so the error names the
 * group to retype. Lower case, spaces and hyphens anywhere are accepted; the groups are cut
 * every eight characters, as printed.
 */
export function decodeCode(input: string, what: What, byteLengths: readonly number[]): Uint8Array {
  if (typeof input !== 'string' || input.length > 1000)
    throw new VolactError('CODE_MALFORMED', { what, detail: 'too long' });
  const compact = input.toUpperCase().replace(/[\s-]/g, '');
  const typedLength = (b: number) => charsFor(b) + Math.ceil(charsFor(b) / GROUP_DATA);
  // far from any valid length: say so; near one (a character dropped or doubled): name the group
  if (!byteLengths.some((b) => Math.abs(typedLength(b) - compact.length) <= 2)) {
    throw new VolactError('CODE_MALFORMED', {
      what,
      detail: `it has ${compact.length} characters; a ${what} has ${[...new Set(byteLengths.map(typedLength))].join(' or ')}`,
    });
  }
  const groupTexts = compact.match(/.{1,8}/g) ?? [];
  const digits: number[] = [];
  groupTexts.forEach((text, g) => {
    if (text.length < 2)
      throw new VolactError('CODE_MALFORMED', {
        what,
        detail: `the last group has ${text.length} character; some of the code is missing`,
      });
    const ds: number[] = [];
    for (const ch of text) {
      const d = ch.charCodeAt(0) < 128 ? DIGIT[ch.charCodeAt(0)]! : -1;
      if (d < 0) throw new VolactError('CODE_BAD_CHARACTER', { what, group: g + 1, char: ch });
      ds.push(d);
    }
    const data = ds.slice(0, -1);
    if (groupCheck(data, g) !== ds[ds.length - 1])
      throw new VolactError('CODE_GROUP_TYPO', { what, group: g + 1, text });
    digits.push(...data);
  });
  const bytes = byteLengths.find((b) => charsFor(b) === digits.length);
  if (bytes === undefined) {
    throw new VolactError('CODE_MALFORMED', {
      what,
      detail: `it has ${compact.length} characters; a ${what} has ${[...new Set(byteLengths.map(typedLength))].join(' or ')}`,
    });
  }
  let n = 0n;
  for (const d of digits) n = n * 29n + BigInt(d);
  const hex = n.toString(16).padStart(bytes * 2, '0');
  if (hex.length > bytes * 2) throw new VolactError('CODE_MALFORMED', { what, detail: 'its value is out of range' });
  return Buffer.from(hex, 'hex');
}

/** The public part of a key (no tag): what an IID and a CID name. */
export function keyIdBytes(k: Pick<KeyFields, 'version' | 'keyClass' | 'ref' | 'serial'>): Buffer {
  let n = BigInt(k.version & 3);
  n = (n << 3n) | BigInt(keyClasses.indexOf(k.keyClass));
  n = (n << 16n) | BigInt(k.ref & 0xffff);
  n = (n << 55n) | (k.serial & ((1n << 55n) - 1n));
  return Buffer.from(n.toString(16).padStart(KEY_ID_BYTES * 2, '0'), 'hex');
}

/**
 * The ID a MAK goes by (`MAK-` and 8 hex digits), derived from its key ID: the authority gives it
 * this ID when issuing it, and a machine activated offline, which holds only its installation ID,
 * derives the same, so one MAK has one name everywhere. The key ID is public (every IID shows it).
 */
export function makIdOf(k: Pick<KeyFields, 'version' | 'keyClass' | 'ref' | 'serial'>): string {
  return `MAK-${createHash('sha256').update('volact-mak-id/').update(keyIdBytes(k)).digest('hex').slice(0, 8)}`;
}

export function keyIdFields(bytes: Uint8Array): Pick<KeyFields, 'version' | 'keyClass' | 'ref' | 'serial'> {
  let n = BigInt('0x' + Buffer.from(bytes).toString('hex'));
  const serial = n & ((1n << 55n) - 1n);
  n >>= 55n;
  const ref = Number(n & 0xffffn);
  n >>= 16n;
  const keyClass = keyClasses[Number(n & 7n)];
  const version = Number(n >> 3n);
  if (!keyClass) throw new VolactError('INSTALLATION_ID_INVALID', { detail: 'it names no key class' });
  return { version, keyClass, ref, serial };
}

export type InstallationId = {
  type: OfflineType;
  keyId: Buffer;
  key: Pick<KeyFields, 'version' | 'keyClass' | 'ref' | 'serial'>;
  /** The MAC, when read from a typed IID; null when read from the public form. */
  mac: Buffer | null;
  /** Host or hypervisor agent: its raw Ed25519 public key. */
  hostPublicKey?: Buffer;
  /** Directory: its ID as a lowercase UUID. */
  directoryId?: string;
  /** MAK machine: reference of its machine ID and the compact parts. */
  machineRef?: Buffer;
  parts?: HashedParts;
  /** The IID as typed, when read from one. */
  text: string | null;
  /** The IID with the MAC replaced by a hash of it: what confirmations sign and what is stored. */
  publicForm: Buffer;
};

/** An IID read from (or made for) typing: it has its text and its MAC. */
export type TypedInstallationId = InstallationId & { text: string; mac: Buffer };

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const prefixBytes = (hash: string | undefined) =>
  hash ? Buffer.from(hash, 'base64url').subarray(0, PART_BYTES) : Buffer.alloc(PART_BYTES);

/** The 12-byte reference of a machine ID carried in an IID (the ID itself never is). */
export function machineRef(machineId: string): Buffer {
  return createHash('sha256').update(`volact-machine-ref/${machineId}`).digest().subarray(0, MACHINE_REF_BYTES);
}

/**
 * Parts as an IID carries them: 3-byte prefixes (4 base64url characters) of the OS identity,
 * board and CPU hashes and of the first disk and network card. Comparing full parts with compact
 * ones goes through this too, so online and offline records judge hardware alike.
 */
export function compactParts(p: HashedParts): HashedParts {
  const cut = (h: string) => h.slice(0, 4);
  return {
    osId: cut(p.osId),
    board: cut(p.board),
    cpu: cut(p.cpu),
    disks: p.disks.slice().sort().slice(0, 1).map(cut),
    nics: p.nics.slice().sort().slice(0, 1).map(cut),
  };
}

/** The "same machine" rule between two part records, either of them possibly compact (offline). */
export function sameHardware(a: HashedParts, b: HashedParts): boolean {
  const compact = a.osId.length < 43 || b.osId.length < 43;
  return compact ? sameMachine(compactParts(a), compactParts(b)).same : sameMachine(a, b).same;
}

/** The MAC key: scrypt of the product key, salted with the key's own ID (so no table serves two keys). */
function macOf(productKey: string, keyId: Uint8Array, header: Uint8Array): Buffer {
  const key = scryptSync(productKey, `volact-iid/v1/${Buffer.from(keyId).toString('hex')}`, 32, {
    N: 2 ** 14,
    r: 8,
    p: 1,
  });
  return createHmac('sha256', key).update(header).digest().subarray(0, MAC_BYTES);
}

const macDigest = (mac: Uint8Array) =>
  createHash('sha256').update('volact-iid-mac/').update(mac).digest().subarray(0, MAC_BYTES);

/** Builds an installation ID: for a host (its public key) or a MAK machine (its identity and parts). */
export function makeInstallationId(
  productKey: { canonical: string } & Pick<KeyFields, 'version' | 'keyClass' | 'ref' | 'serial'>,
  machine:
    | { type: 'host' | 'hypervisor'; hostPublicKey: string }
    | { type: 'directory'; directoryId: string }
    | { type: 'mak'; machineId: string; parts: HashedParts },
): TypedInstallationId {
  const keyId = keyIdBytes(productKey);
  let data: Buffer;
  if ('hostPublicKey' in machine) {
    data = Buffer.from(machine.hostPublicKey, 'base64url');
    if (data.length !== 32) throw new RangeError('a host public key has 32 bytes');
  } else if (machine.type === 'directory') {
    data = Buffer.from(machine.directoryId.replace(/-/g, ''), 'hex');
    if (data.length !== 16) throw new RangeError('a directory ID is a UUID');
  } else {
    const p = machine.parts;
    data = Buffer.concat([
      machineRef(machine.machineId),
      ...[p.osId, p.board, p.cpu, p.disks.slice().sort()[0], p.nics.slice().sort()[0]].map(prefixBytes),
    ]);
  }
  const head = Buffer.from([(CODE_VERSION << 4) | offlineTypes[machine.type]]);
  const mac = macOf(productKey.canonical, keyId, Buffer.concat([head, keyId, data]));
  return readInstallationId(Buffer.concat([head, keyId, mac, data]), false) as TypedInstallationId;
}

const iidLengths = (Object.keys(offlineTypes) as OfflineType[]).map(
  (t) => 1 + KEY_ID_BYTES + MAC_BYTES + machineDataBytes[t],
);

/** True when `text` is a correctly typed group number `index` (0-based) of a code. */
export function isCodeGroup(text: string, index: number): boolean {
  const ds = [...text.toUpperCase()].map((c) => (c.charCodeAt(0) < 128 ? DIGIT[c.charCodeAt(0)]! : -1));
  return (
    ds.length >= 2 &&
    ds.length <= GROUP_DATA + 1 &&
    ds.every((d) => d >= 0) &&
    groupCheck(ds.slice(0, -1), index) === ds[ds.length - 1]
  );
}

/** Parses a typed installation ID (typos named by group); the MAC is checked by whoever holds the key. */
export function parseInstallationId(text: string): TypedInstallationId {
  return readInstallationId(Buffer.from(decodeCode(text, 'installation ID', iidLengths)), false) as TypedInstallationId;
}

/** Reads the public form (base64url) kept in host certificates and licenses. */
export function parsePublicForm(b64url: string): InstallationId {
  const bytes = Buffer.from(b64url, 'base64url');
  if (!iidLengths.includes(bytes.length) || bytes.toString('base64url') !== b64url)
    throw new VolactError('CODE_MALFORMED', { what: 'installation ID', detail: 'the stored public form is damaged' });
  return readInstallationId(bytes, true);
}

function readInstallationId(bytes: Buffer, isPublicForm: boolean): InstallationId {
  const version = bytes[0]! >> 4;
  const typeNumber = bytes[0]! & 15;
  const type = (Object.keys(offlineTypes) as OfflineType[]).find((t) => offlineTypes[t] === typeNumber);
  if (version !== CODE_VERSION || !type)
    throw new VolactError('CODE_MALFORMED', {
      what: 'installation ID',
      detail: `version ${version} type ${typeNumber} is not one this release reads`,
    });
  if (bytes.length !== 1 + KEY_ID_BYTES + MAC_BYTES + machineDataBytes[type])
    throw new VolactError('CODE_MALFORMED', {
      what: 'installation ID',
      detail: `a ${type} installation ID has another length`,
    });
  const keyId = bytes.subarray(1, 1 + KEY_ID_BYTES);
  const mac = bytes.subarray(1 + KEY_ID_BYTES, 1 + KEY_ID_BYTES + MAC_BYTES);
  const data = bytes.subarray(1 + KEY_ID_BYTES + MAC_BYTES);
  const publicForm = isPublicForm ? bytes : Buffer.concat([bytes.subarray(0, 1 + KEY_ID_BYTES), macDigest(mac), data]);
  const iid: InstallationId = {
    type,
    keyId,
    key: keyIdFields(keyId),
    mac: isPublicForm ? null : mac,
    text: isPublicForm ? null : encodeCode(bytes),
    publicForm,
  };
  const wanted = type === 'mak' ? 'mak' : type === 'hypervisor' ? 'datacenter' : 'host';
  if (iid.key.keyClass !== wanted)
    throw new VolactError('INSTALLATION_ID_INVALID', {
      detail: `a ${type} installation ID names a ${iid.key.keyClass} key`,
    });
  if (type === 'host' || type === 'hypervisor') {
    iid.hostPublicKey = Buffer.from(data);
  } else if (type === 'directory') {
    const h = Buffer.from(data).toString('hex');
    iid.directoryId = `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  } else {
    iid.machineRef = Buffer.from(data.subarray(0, MACHINE_REF_BYTES));
    const part = (i: number) =>
      b64(data.subarray(MACHINE_REF_BYTES + i * PART_BYTES, MACHINE_REF_BYTES + (i + 1) * PART_BYTES));
    const none = b64(Buffer.alloc(PART_BYTES));
    iid.parts = {
      osId: part(0),
      board: part(1),
      cpu: part(2),
      disks: part(3) === none ? [] : [part(3)],
      nics: part(4) === none ? [] : [part(4)],
    };
  }
  return iid;
}

/** True when the IID's MAC was made with this product key (the authority re-derives the key from its ID). */
export function installationIdMacValid(iid: InstallationId, canonicalKey: string): boolean {
  if (!iid.mac) return false;
  const head = iid.publicForm.subarray(0, 1 + KEY_ID_BYTES);
  const data = iid.publicForm.subarray(1 + KEY_ID_BYTES + MAC_BYTES);
  return timingSafeEqual(macOf(canonicalKey, iid.keyId, Buffer.concat([head, data])), iid.mac);
}

/** The 2-byte tag that names the issuing key in a CID (the SHA-256 prefix of its raw public key). */
export function issuerTag(rawPublicKey: string): Buffer {
  return createHash('sha256').update(Buffer.from(rawPublicKey, 'base64url')).digest().subarray(0, 2);
}

function signedBlock(cidHead: Uint8Array, iid: InstallationId): Buffer {
  return Buffer.concat([
    Buffer.from('volact-cid/v1\0'),
    cidHead,
    iid.keyId,
    createHash('sha256').update(iid.publicForm).digest(),
  ]);
}

export type Confirmation = {
  type: OfflineType;
  tag: Buffer;
  issuedAt: number;
  signature: Buffer;
  bytes: Buffer;
  text: string;
};

/** Signs a confirmation for an IID with the offline issuing key (the authority's side). */
export function makeConfirmation(
  iid: InstallationId,
  issuer: { privateKey: KeyObject; rawPublicKey: string },
  now: number,
): Confirmation {
  const day = Math.floor((now - EPOCH) / DAY_MS);
  if (day < 0 || day > 0xffff) throw new RangeError('date outside the range of confirmation IDs');
  const head = Buffer.alloc(5);
  head[0] = (CODE_VERSION << 4) | offlineTypes[iid.type];
  issuerTag(issuer.rawPublicKey).copy(head, 1);
  head.writeUInt16BE(day, 3);
  const signature = sign(null, signedBlock(head, iid), issuer.privateKey);
  return readConfirmation(Buffer.concat([head, signature]));
}

export function parseConfirmation(text: string): Confirmation {
  return readConfirmation(Buffer.from(decodeCode(text, 'confirmation ID', [CID_BYTES])));
}

function readConfirmation(bytes: Buffer): Confirmation {
  const version = bytes[0]! >> 4;
  const typeNumber = bytes[0]! & 15;
  const type = (Object.keys(offlineTypes) as OfflineType[]).find((t) => offlineTypes[t] === typeNumber);
  if (version !== CODE_VERSION || !type)
    throw new VolactError('CODE_MALFORMED', {
      what: 'confirmation ID',
      detail: `version ${version} type ${typeNumber} is not one this release reads`,
    });
  const day = bytes.readUInt16BE(3);
  return {
    type,
    tag: bytes.subarray(1, 3),
    issuedAt: EPOCH + day * DAY_MS,
    signature: bytes.subarray(5),
    bytes,
    text: encodeCode(bytes),
  };
}

/**
 * Checks a confirmation against the IID this machine shows now and the offline issuing keys it
 * knows (each already verified to the pinned root by the caller). Returns the key that signed.
 */
export function verifyConfirmation<
  K extends { rawPublicKey: string; key: KeyObject; notBefore: number; notAfter: number },
>(cid: Confirmation, iid: InstallationId, issuers: readonly K[]): K {
  if (cid.type !== iid.type)
    throw new VolactError('CONFIRMATION_MISMATCH', {
      detail: `it confirms a ${cid.type} installation, this is a ${iid.type}`,
    });
  const candidates = issuers.filter((i) => issuerTag(i.rawPublicKey).equals(cid.tag));
  if (candidates.length === 0)
    throw new VolactError('CONFIRMATION_UNTRUSTED', {
      detail: `no known offline issuing key has tag ${cid.tag.toString('hex')}`,
    });
  const block = signedBlock(cid.bytes.subarray(0, 5), iid);
  for (const issuer of candidates) {
    if (!verify(null, block, issuer.key, cid.signature)) continue;
    // day granularity: the issuing key must have been valid at some time that day
    if (cid.issuedAt + DAY_MS <= issuer.notBefore || cid.issuedAt > issuer.notAfter) {
      throw new VolactError('ISSUER_EXPIRED', {
        kid: `offline ${cid.tag.toString('hex')}`,
        notBefore: new Date(issuer.notBefore).toISOString(),
        notAfter: new Date(issuer.notAfter).toISOString(),
      });
    }
    return issuer;
  }
  throw new VolactError('CONFIRMATION_MISMATCH', { detail: 'its signature does not cover this installation ID' });
}
