import { createHmac, randomInt, timingSafeEqual } from 'node:crypto';
import { createSocket } from 'node:dgram';
import dnsPacket from 'dns-packet';

/**
 * RFC 2136 dynamic updates signed with TSIG (RFC 8945, HMAC-SHA256), for a host publishing its
 * own SRV (and A/AAAA) records. dns-packet encodes the message; the class NONE of "delete this
 * one record" and the TSIG record are written here, since dns-packet has neither.
 */

export type TsigKey = { name: string; algorithm: 'hmac-sha256'; secret: Buffer };

export type SrvRecord = { name: string; priority: number; weight: number; port: number; target: string; ttl: number };
export type AddressRecord = { name: string; address: string; family: 4 | 6; ttl: number };

export type UpdateOp =
  | { op: 'add'; record: { type: 'SRV'; rr: SrvRecord } | { type: 'A' | 'AAAA'; rr: AddressRecord } }
  | { op: 'delete'; record: { type: 'SRV'; rr: SrvRecord } | { type: 'A' | 'AAAA'; rr: AddressRecord } };

export type UpdateResult = {
  rcode: string;
  rcodeNumber: number;
  tsigError: number | null;
  signedAnswer: boolean;
  timeSigned?: number;
};

const RCODES = [
  'NOERROR',
  'FORMERR',
  'SERVFAIL',
  'NXDOMAIN',
  'NOTIMP',
  'REFUSED',
  'YXDOMAIN',
  'YXRRSET',
  'NXRRSET',
  'NOTAUTH',
  'NOTZONE',
];
const CLASS_NONE = 254;
const CLASS_ANY = 255;
const TYPE_TSIG = 250;
const FUDGE = 300;

/** A domain name in wire format, lower case (the canonical form TSIG digests use). */
export function nameWire(name: string): Buffer {
  const labels = name.replace(/\.$/, '').toLowerCase().split('.').filter(Boolean);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'ascii');
    if (b.length > 63) throw new RangeError(`label ${l} is longer than 63 bytes`);
    parts.push(Buffer.from([b.length]), b);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function time48(seconds: number): Buffer {
  const b = Buffer.alloc(6);
  b.writeUIntBE(seconds, 0, 6);
  return b;
}

/** The TSIG variables digested after the message (RFC 8945 §4.3.3). */
function tsigVariables(key: TsigKey, timeSigned: number, error: number, other: Buffer): Buffer {
  return Buffer.concat([
    nameWire(key.name),
    u16(CLASS_ANY),
    Buffer.alloc(4),
    nameWire(key.algorithm),
    time48(timeSigned),
    u16(FUDGE),
    u16(error),
    u16(other.length),
    other,
  ]);
}

function mac(key: TsigKey, ...parts: Buffer[]): Buffer {
  const h = createHmac('sha256', key.secret);
  for (const p of parts) h.update(p);
  return h.digest();
}

/** Appends a TSIG record to an encoded message and counts it in ARCOUNT. */
function sign(message: Buffer, key: TsigKey, timeSigned: number): { signed: Buffer; requestMac: Buffer } {
  const id = message.readUInt16BE(0);
  const digest = mac(key, message, tsigVariables(key, timeSigned, 0, Buffer.alloc(0)));
  const rdata = Buffer.concat([
    nameWire(key.algorithm),
    time48(timeSigned),
    u16(FUDGE),
    u16(digest.length),
    digest,
    u16(id),
    u16(0),
    u16(0),
  ]);
  const rr = Buffer.concat([
    nameWire(key.name),
    u16(TYPE_TSIG),
    u16(CLASS_ANY),
    Buffer.alloc(4),
    u16(rdata.length),
    rdata,
  ]);
  const signed = Buffer.concat([message, rr]);
  signed.writeUInt16BE(signed.readUInt16BE(10) + 1, 10);
  return { signed, requestMac: digest };
}

/** Skips a possibly compressed name at `offset`; returns the offset after it. */
function skipName(buf: Buffer, offset: number): number {
  for (;;) {
    if (offset >= buf.length) throw new RangeError('truncated name');
    const len = buf[offset]!;
    if (len === 0) return offset + 1;
    if ((len & 0xc0) === 0xc0) return offset + 2;
    offset += len + 1;
  }
}

/** Finds the last additional record (where a TSIG record sits) in a DNS message. */
function lastAdditionalOffset(buf: Buffer): number | undefined {
  const [qd, an, ns, ar] = [4, 6, 8, 10].map((o) => buf.readUInt16BE(o)) as [number, number, number, number];
  if (ar === 0) return undefined;
  let off = 12;
  for (let i = 0; i < qd; i++) off = skipName(buf, off) + 4;
  for (let i = 0; i < an + ns + ar - 1; i++) {
    off = skipName(buf, off);
    off += 10 + buf.readUInt16BE(off + 8);
  }
  return off;
}

/**
 * Reads the server's answer and verifies its TSIG signature with the request's MAC (RFC 8945
 * §5.3): an answer that is not signed by the key we share is not believed.
 */
export function verifyResponse(response: Buffer, key: TsigKey, requestMac: Buffer, requestId: number): UpdateResult {
  if (response.length < 12 || response.readUInt16BE(0) !== requestId)
    throw new Error('the answer does not match the request');
  const flags = response.readUInt16BE(2);
  if (!(flags & 0x8000) || ((flags >> 11) & 0xf) !== 5) throw new Error('not an answer to an UPDATE');
  const rcodeNumber = response.readUInt16BE(2) & 0x0f;
  const rcode = RCODES[rcodeNumber] ?? `RCODE${rcodeNumber}`;
  const at = lastAdditionalOffset(response);
  if (at === undefined) return { rcode, rcodeNumber, tsigError: null, signedAnswer: false };
  let off = at;
  const owner = response.subarray(off, skipName(response, off));
  off += owner.length;
  if (response.readUInt16BE(off) !== TYPE_TSIG) return { rcode, rcodeNumber, tsigError: null, signedAnswer: false };
  const rdStart = off + 10;
  let p = skipName(response, rdStart);
  const timeSigned = response.readUIntBE(p, 6);
  p += 8; // time signed, fudge
  const macSize = response.readUInt16BE(p);
  const theirMac = response.subarray(p + 2, p + 2 + macSize);
  p += 2 + macSize + 2; // MAC, original ID
  const error = response.readUInt16BE(p);
  const otherLen = response.readUInt16BE(p + 2);
  const other = response.subarray(p + 4, p + 4 + otherLen);
  if (macSize === 0) return { rcode, rcodeNumber, tsigError: error, signedAnswer: false };
  // the digest covers the message without its TSIG record, with ARCOUNT as it was before
  const unsigned = Buffer.from(response.subarray(0, at));
  unsigned.writeUInt16BE(unsigned.readUInt16BE(10) - 1, 10);
  const ours = mac(key, u16(requestMac.length), requestMac, unsigned, tsigVariables(key, timeSigned, error, other));
  const valid = ours.length === theirMac.length && timingSafeEqual(ours, theirMac);
  return { rcode, rcodeNumber, tsigError: error, signedAnswer: valid, timeSigned };
}

/** Encodes an UPDATE for `zone` (RFC 2136): the zone as the question, the changes as updates. */
export function encodeUpdate(zone: string, ops: UpdateOp[], id = randomInt(0, 0x10000)): Buffer {
  const authorities: dnsPacket.Answer[] = [];
  const deletes: boolean[] = [];
  for (const { op, record } of ops) {
    const ttl = op === 'add' ? record.rr.ttl : 0;
    if (record.type === 'SRV') {
      const { name, priority, weight, port, target } = record.rr;
      authorities.push({ type: 'SRV', name, ttl, class: 'IN', data: { priority, weight, port, target } });
    } else {
      authorities.push({ type: record.type, name: record.rr.name, ttl, class: 'IN', data: record.rr.address });
    }
    deletes.push(op === 'delete');
  }
  const message = dnsPacket.encode({
    type: 'query',
    id,
    flags: 5 << 11, // opcode UPDATE
    questions: [{ type: 'SOA', name: zone, class: 'IN' }],
    authorities,
  });
  if (deletes.some(Boolean)) {
    // "delete this one record" is class NONE (RFC 2136 §2.5.4), which dns-packet cannot write:
    // patch the class bytes of those records in place.
    let off = 12;
    off = skipName(message, off) + 4;
    for (const isDelete of deletes) {
      off = skipName(message, off);
      if (isDelete) message.writeUInt16BE(CLASS_NONE, off + 2);
      off += 10 + message.readUInt16BE(off + 8);
    }
  }
  return message;
}

/**
 * Sends a signed UPDATE over UDP (a connected socket: datagrams from elsewhere are not seen) and
 * returns the first answer whose TSIG signature verifies and whose time is within the fudge.
 * Unsigned answers (a server reporting BADSIG, or a forger) and malformed ones are kept aside and
 * waited past (RFC 8945 §5.3); only if no signed answer comes is the last unsigned one returned,
 * marked as not signed. Rejects when nothing at all answers in time.
 */
export async function sendUpdate(
  server: { host: string; port: number },
  zone: string,
  ops: UpdateOp[],
  key: TsigKey,
  nowSeconds: number,
  timeoutMs = 3000,
): Promise<UpdateResult> {
  const message = encodeUpdate(zone, ops);
  const id = message.readUInt16BE(0);
  const { signed, requestMac } = sign(message, key, nowSeconds);
  const socket = createSocket(server.host.includes(':') ? 'udp6' : 'udp4');
  try {
    return await new Promise<UpdateResult>((resolve, reject) => {
      let unsigned: UpdateResult | undefined;
      const timer = setTimeout(
        () =>
          unsigned
            ? resolve(unsigned)
            : reject(new Error(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      socket.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      socket.on('message', (msg) => {
        let result: UpdateResult;
        try {
          result = verifyResponse(msg, key, requestMac, id);
        } catch {
          return; // not an answer to this request
        }
        if (!result.signedAnswer || Math.abs((result.timeSigned ?? 0) - Math.floor(Date.now() / 1000)) > FUDGE) {
          unsigned = { ...result, signedAnswer: false };
          return;
        }
        clearTimeout(timer);
        resolve(result);
      });
      socket.connect(server.port, server.host, () => socket.send(signed));
    });
  } finally {
    socket.close();
  }
}

/** Reads a BIND key file (`key "name" { algorithm hmac-sha256; secret "base64"; };`). */
export function parseTsigKeyFile(text: string): TsigKey {
  const name = /key\s+"?([^"\s{]+)"?\s*\{/.exec(text)?.[1];
  const algorithm = /algorithm\s+"?([A-Za-z0-9-]+)"?\s*;/.exec(text)?.[1]?.toLowerCase();
  const secret = /secret\s+"([A-Za-z0-9+/=]+)"\s*;/.exec(text)?.[1];
  if (!name || !secret) throw new Error('not a BIND key file (key "name" { algorithm hmac-sha256; secret "…"; };)');
  if (algorithm !== 'hmac-sha256')
    throw new Error(`algorithm ${algorithm ?? '?'} is not supported; use hmac-sha256 (tsig-keygen -a hmac-sha256)`);
  return { name, algorithm: 'hmac-sha256', secret: Buffer.from(secret, 'base64') };
}
