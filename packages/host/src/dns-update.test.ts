import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { encodeUpdate, nameWire, parseTsigKeyFile, verifyResponse, type TsigKey } from './dns-update.js';

const key: TsigKey = { name: 'host1', algorithm: 'hmac-sha256', secret: randomBytes(32) };
const srv = {
  name: '_volact._tcp.example.test',
  priority: 0,
  weight: 5,
  port: 1688,
  target: 'kms1.example.test',
  ttl: 60,
};

const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);

/** A response as BIND signs it: the request MAC, the message, the TSIG variables (RFC 8945). */
function signedResponse(requestId: number, requestMac: Buffer, rcode: number, signWith: TsigKey): Buffer {
  const msg = encodeUpdate('example.test', [], requestId);
  msg.writeUInt16BE(0x8000 | (5 << 11) | rcode, 2);
  const time = Buffer.alloc(6);
  time.writeUIntBE(Math.floor(Date.now() / 1000), 0, 6);
  const vars = Buffer.concat([
    nameWire(signWith.name),
    u16(255),
    Buffer.alloc(4),
    nameWire('hmac-sha256'),
    time,
    u16(300),
    u16(0),
    u16(0),
  ]);
  const mac = createHmac('sha256', signWith.secret)
    .update(u16(requestMac.length))
    .update(requestMac)
    .update(msg)
    .update(vars)
    .digest();
  const rdata = Buffer.concat([
    nameWire('hmac-sha256'),
    time,
    u16(300),
    u16(mac.length),
    mac,
    u16(requestId),
    u16(0),
    u16(0),
  ]);
  const out = Buffer.concat([
    msg,
    nameWire(signWith.name),
    u16(250),
    u16(255),
    Buffer.alloc(4),
    u16(rdata.length),
    rdata,
  ]);
  out.writeUInt16BE(1, 10);
  return out;
}

describe('RFC 2136 updates with TSIG', () => {
  test('an add is class IN with the TTL; a delete of one record is class NONE with TTL 0', () => {
    const msg = encodeUpdate(
      'example.test',
      [
        { op: 'delete', record: { type: 'SRV', rr: srv } },
        { op: 'add', record: { type: 'SRV', rr: { ...srv, port: 1689 } } },
      ],
      77,
    );
    const decoded = dnsPacket.decode(msg) as dnsPacket.DecodedPacket & { opcode: string };
    assert.equal(decoded.opcode, 'UPDATE');
    assert.deepEqual(decoded.questions, [{ name: 'example.test', type: 'SOA', class: 'IN' }]);
    const [del, add] = decoded.authorities as { class: string; ttl: number; data: { port: number } }[];
    assert.deepEqual([del!.class, del!.ttl], ['UNKNOWN_254', 0]);
    assert.deepEqual([add!.class, add!.ttl, add!.data.port], ['IN', 60, 1689]);
  });

  test("verifies the server's signature: a genuine answer, a changed answer, another key, no signature", () => {
    const requestMac = randomBytes(32);
    const good = signedResponse(9, requestMac, 0, key);
    const { timeSigned, ...verdict } = verifyResponse(good, key, requestMac, 9);
    assert.deepEqual(verdict, { rcode: 'NOERROR', rcodeNumber: 0, tsigError: 0, signedAnswer: true });
    assert.ok(Math.abs(timeSigned! - Date.now() / 1000) < 5, 'the time signed is read back for the fudge check');
    const changed = Buffer.from(good);
    changed[3] = (changed[3]! & 0xf0) | 5; // REFUSED written over NOERROR on the way
    assert.equal(verifyResponse(changed, key, requestMac, 9).signedAnswer, false);
    const other = signedResponse(9, requestMac, 0, { ...key, secret: randomBytes(32) });
    assert.equal(verifyResponse(other, key, requestMac, 9).signedAnswer, false);
    assert.equal(
      verifyResponse(signedResponse(9, randomBytes(32), 0, key), key, requestMac, 9).signedAnswer,
      false,
      'signed for another request',
    );
    const unsigned = encodeUpdate('example.test', [], 9);
    assert.throws(() => verifyResponse(unsigned, key, requestMac, 9), /not an answer/, 'a request is not an answer');
    unsigned.writeUInt16BE(0x8000 | (5 << 11) | 9, 2); // an unsigned NOTAUTH, as for BADSIG
    assert.deepEqual(verifyResponse(unsigned, key, requestMac, 9), {
      rcode: 'NOTAUTH',
      rcodeNumber: 9,
      tsigError: null,
      signedAnswer: false,
    });
    assert.throws(() => verifyResponse(good, key, requestMac, 10), /does not match the request/);
  });

  test('reads BIND key files and refuses other algorithms', () => {
    const text = `key "host1" {\n\talgorithm hmac-sha256;\n\tsecret "${key.secret.toString('base64')}";\n};\n`;
    assert.deepEqual(parseTsigKeyFile(text), key);
    assert.throws(() => parseTsigKeyFile(text.replace('hmac-sha256', 'hmac-md5')), /hmac-md5 is not supported/);
    assert.throws(() => parseTsigKeyFile('nonsense'), /not a BIND key file/);
  });
});
