/**
 * Requests written byte by byte onto a raw socket: framing a client library would never send
 * (Content-Length and Transfer-Encoding conflicts, bad chunk sizes, folded and overlong headers,
 * bare line feeds, odd request lines), pipelining, and garbage.
 *
 * `expect` is how many answers the bytes certainly call for: the runner waits for them (or for
 * the server to close) and calls a missing one a hang. With 0 the framing is ambiguous or left
 * incomplete on purpose: the runner takes what comes within a moment, then half-closes and waits
 * for the server to close. Ambiguous framing carries a body no schema accepts (`poisoned`), so a
 * request the server did act on can never lose its answer to that half-close.
 */
import type { Rng } from './fuzz-random.js';
import { hostileString } from './fuzz-values.js';

export type RawRequest = { chunks: Buffer[]; expect: number; label: string };
export type Head = { method: string; target: string; version: string; headers: string[] };

const CRLF = '\r\n';

/** Text as bytes: one byte per character when all fit (bytes written as latin1 characters stay as they are), else UTF-8. */
export function wire(text: string): Buffer {
  return Buffer.from(text, /^[\x00-\xff]*$/.test(text) ? 'latin1' : 'utf8');
}

export function requestBytes(h: Head, body: Buffer, eol = CRLF): Buffer {
  return Buffer.concat([
    wire(`${h.method} ${h.target} ${h.version}${eol}${h.headers.map((x) => x + eol).join('')}${eol}`),
    body,
  ]);
}

/** A body in chunked transfer coding, in chunks of random sizes. */
function chunked(rng: Rng, body: Buffer): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < body.length;) {
    const n = Math.min(body.length - i, rng.size(1, 4096));
    const ext = rng.chance(0.1) ? ';name=value' : '';
    out.push(Buffer.from(`${n.toString(16)}${ext}${CRLF}`), body.subarray(i, i + n), Buffer.from(CRLF));
    i += n;
  }
  out.push(Buffer.from(`0${CRLF}${rng.chance(0.1) ? `X-Trailer: 1${CRLF}` : ''}${CRLF}`));
  return Buffer.concat(out);
}

const BAD_CHUNK_SIZES = [
  'zz',
  '-1',
  '0x10',
  '+5',
  ' 5',
  '5 ',
  'ffffffffffffffffffff',
  '1'.repeat(60),
  '',
  '5;' + 'e'.repeat(20_000),
  '٥',
];
const BAD_CL = [
  '-1',
  '+5',
  '0x10',
  '1e3',
  ' 5 ',
  '5 5',
  '5,5',
  '5, 6',
  '99999999999999999999',
  '',
  'abc',
  '5\u0000',
  '٥',
  '1.0',
];
const BAD_TE = [
  'chunked, chunked',
  'xchunked',
  'chunked ',
  ' chunked',
  'Chunked',
  'gzip, chunked',
  'chunked, gzip',
  'identity',
  'gzip',
  'chunked;q=1',
  '\u000bchunked',
  'chunk',
];
const BAD_HEADER_LINES = [
  'Bad Header: x',
  'Bad\u0000Name: x',
  'X-Nul: a\u0000b',
  'X-Cr: a\rb',
  'NoColon',
  ': empty-name',
  'X-Hi: \u00ff\u00fe',
  'Content-Type : application/json',
  ' Leading: space',
  'X-Long-Name' + 'e'.repeat(5000) + ': x',
  'X\u007f: del',
  'Content-Type: text/plain',
  'Transfer-Encoding : chunked',
  'Transfer-Encoding:\tchunked',
  'Transfer-Encoding: chunked\r\nTransfer-Encoding: identity',
];
const HOST_HEADERS = [
  [],
  ['Host: localhost', 'Host: evil.example'],
  ['Host: '],
  ['Host: evil.example:99999'],
  ['Host: [::1'],
  ['Host: a b'],
  [`Host: ${'h'.repeat(9000)}`],
];
const BAD_VERSIONS = [
  'HTTP/1.2',
  'HTTP/2.0',
  'HTTP/0.9',
  'HTTP/9.9',
  'http/1.1',
  'HTTP/1.1 extra',
  'HTTP/1',
  'HTTP/1.10',
  'HTTPS/1.1',
  '',
  'HTTP/1.1\u0000',
];
const METHODS = [
  'get',
  'Post',
  'PUT',
  'DELETE',
  'PATCH',
  'OPTIONS',
  'TRACE',
  'HEAD',
  'CONNECT',
  'PROPFIND',
  'FOO',
  'GET\u0000',
  'G ET',
  'P'.repeat(5000),
  '',
  'POST\t',
  'QUERY',
  'PRI',
  'ACL',
  'BREW',
];

/** Every byte of a string's UTF-8 form percent-encoded (lone surrogates included). */
const percent = (s: unknown) =>
  [...Buffer.from(typeof s === 'string' ? s : 'raw', 'utf8')]
    .map((b) => '%' + b.toString(16).padStart(2, '0'))
    .join('');

/** A hostile request target derived from the endpoint's path. */
export function hostilePath(rng: Rng, path: string): string {
  return rng.pick([
    () => path + '/',
    () => path.replace(/\//g, '//'),
    () => path.toUpperCase(),
    () => path.replace(/\//g, '%2F'),
    () => `${path}%00`,
    () => `${path}\u0000`,
    () => `/v1/../${path.slice(1)}`,
    () => path.replace(/\/([^/]*)$/, '/./$1'),
    () => `${path}?${Array.from({ length: rng.size(1, 5000) }, (_, i) => `a${i}=${i}`).join('&')}`,
    () => `${path}#frag`,
    () => `${path};jsessionid=1`,
    () => '/' + 'a'.repeat(rng.size(100, 70_000)),
    () => `${path}/${Buffer.from('ü漢😀', 'utf8').toString('latin1')}`,
    () => `${path}%ff%fe%c0%af`,
    () => '/%',
    () => '/%zz',
    () => '*',
    () => '',
    () => '//[',
    () => `http://127.0.0.1${path}`,
    () => `http://user:pw@evil.example${path}`,
    () => '127.0.0.1:80',
    () => `${path}?q=${percent(hostileString(rng))}`,
  ])();
}

/** Framing cases; `poisoned` is a body no schema accepts, `body` any (mutated or valid) body. */
export function framingCase(rng: Rng, head: Head, poisoned: Buffer, body: Buffer): RawRequest {
  const h = { ...head, headers: [...head.headers] };
  const one = oneRequest(h);
  const n = rng.int(21);
  if (n >= 11 && n <= 19) return headerCase(rng, h, poisoned, n);
  switch (n) {
    case 0:
      return one(body, [cl(body)], 1, 'clean');
    case 20: {
      const host = rng.pick(HOST_HEADERS);
      const headers = [...h.headers.filter((x) => !x.startsWith('Host:')), ...host, cl(body)];
      return {
        chunks: [requestBytes({ ...h, headers }, body)],
        expect: 1,
        label: `host header ${JSON.stringify(host.join(' | ').slice(0, 40))}`,
      };
    }
    case 1: {
      const bytes = requestBytes({ ...h, headers: [...h.headers, cl(body)] }, body);
      const cuts = Array.from({ length: rng.size(1, 8) }, () => rng.int(bytes.length)).sort((a, b) => a - b);
      const chunks = [0, ...cuts]
        .map((c, i, all) => bytes.subarray(c, all[i + 1] ?? bytes.length))
        .filter((c) => c.length > 0);
      return { chunks, expect: 1, label: `split in ${chunks.length}` };
    }
    case 2:
      return one(chunked(rng, body), ['Transfer-Encoding: chunked'], 1, 'chunked');
    case 3: {
      const short = rng.int(Math.max(1, poisoned.length));
      return one(
        Buffer.concat([poisoned, Buffer.from('GARBAGE / HTTP/1.1\r\n\r\n')]),
        [`Content-Length: ${short}`],
        0,
        'content-length short',
      );
    }
    case 4:
      return one(poisoned, [`Content-Length: ${poisoned.length + rng.size(1, 100_000)}`], 0, 'content-length long');
    case 5: {
      const v = rng.pick(BAD_CL);
      return one(poisoned, [`Content-Length: ${v}`], 0, `content-length ${JSON.stringify(v)}`);
    }
    case 6:
      return one(
        poisoned,
        [cl(poisoned), `Content-Length: ${rng.chance(0.5) ? poisoned.length : poisoned.length + 1}`],
        0,
        'content-length twice',
      );
    case 7:
      return one(
        chunked(rng, poisoned),
        ['Transfer-Encoding: chunked', cl(poisoned)],
        0,
        'transfer-encoding and content-length',
      );
    case 8: {
      const v = rng.pick(BAD_TE);
      return one(chunked(rng, poisoned), [`Transfer-Encoding: ${v}`], 0, `transfer-encoding ${JSON.stringify(v)}`);
    }
    case 9: {
      const size = rng.pick(BAD_CHUNK_SIZES);
      const rest = rng.pick([
        `${CRLF}${poisoned.toString('latin1')}${CRLF}0${CRLF}${CRLF}`,
        `${CRLF}abc`,
        `${CRLF}${poisoned.toString('latin1')}`,
        '',
      ]);
      return one(
        Buffer.concat([wire(size), wire(rest)]),
        ['Transfer-Encoding: chunked'],
        0,
        `chunk size ${JSON.stringify(size.slice(0, 20))}`,
      );
    }
    default: // 10
      return one(
        poisoned,
        [
          cl(poisoned),
          rng.pick(['X-Folded: a', 'Content-Type: application/json']),
          rng.pick([' folded', '\tfolded', ' chunked']),
        ],
        0,
        'obs-fold',
      );
  }
}

const cl = (b: Buffer) => `Content-Length: ${b.length}`;

/** One request of `h` with `headers` added and body `b`, in one chunk. */
function oneRequest(h: Head) {
  return (b: Buffer, headers: string[], expect: number, label: string): RawRequest => ({
    chunks: [requestBytes({ ...h, headers: [...h.headers, ...headers] }, b)],
    expect,
    label,
  });
}

/** Framing cases 11 to 19 of `framingCase`: hostile header lines, request lines and cut headers. */
function headerCase(rng: Rng, h: Head, poisoned: Buffer, n: number): RawRequest {
  const one = oneRequest(h);
  switch (n) {
    case 11: {
      const line = rng.pick(BAD_HEADER_LINES);
      return one(poisoned, [cl(poisoned), line], 0, `header line ${JSON.stringify(line.slice(0, 24))}`);
    }
    case 12:
      return one(poisoned, [cl(poisoned), `X-Long: ${'x'.repeat(rng.size(8_000, 200_000))}`], 0, 'long header');
    case 13: {
      const n = rng.size(100, 5000);
      return one(poisoned, [cl(poisoned), ...Array.from({ length: n }, (_, i) => `X-H${i}: ${i}`)], 0, `${n} headers`);
    }
    case 14: {
      const eol = rng.pick(['\n', '\r', '\r\r\n', '\n\r']);
      return {
        chunks: [requestBytes({ ...h, headers: [...h.headers, cl(poisoned)] }, poisoned, eol)],
        expect: 0,
        label: `line ending ${JSON.stringify(eol)}`,
      };
    }
    case 15:
      return one(
        poisoned,
        [
          cl(poisoned),
          rng.pick([
            'Expect: 100-continue',
            'Expect: nonsense',
            'Connection: Upgrade\r\nUpgrade: websocket',
            'Upgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA',
          ]),
        ],
        0,
        'expect or upgrade',
      );
    case 16: {
      const v = rng.pick(BAD_VERSIONS);
      return {
        chunks: [requestBytes({ ...h, version: v, headers: [...h.headers, cl(poisoned)] }, poisoned)],
        expect: 0,
        label: `version ${JSON.stringify(v)}`,
      };
    }
    case 17: {
      const m = rng.pick(METHODS);
      return {
        chunks: [requestBytes({ ...h, method: m, headers: [...h.headers, cl(poisoned)] }, poisoned)],
        expect: 0,
        label: `method ${JSON.stringify(m.slice(0, 12))}`,
      };
    }
    case 18: {
      const t = hostilePath(rng, h.target);
      return {
        chunks: [requestBytes({ ...h, target: t, headers: [...h.headers, cl(poisoned)] }, poisoned)],
        expect: 0,
        label: `target ${JSON.stringify(t.slice(0, 32))}`,
      };
    }
    default: {
      const headers = requestBytes({ ...h, headers: [...h.headers, cl(poisoned)] }, Buffer.alloc(0));
      return { chunks: [headers.subarray(0, rng.int(headers.length))], expect: 0, label: 'headers cut short' };
    }
  }
}

/** Bytes that are not HTTP/1.1 at all. */
export function garbageCase(rng: Rng): RawRequest {
  switch (rng.int(5)) {
    case 0:
      return { chunks: [rng.bytes(rng.size(1, 65_536))], expect: 0, label: 'random bytes' };
    case 1:
      return {
        chunks: [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x12\x04\x00\x00\x00\x00\x00', 'latin1')],
        expect: 0,
        label: 'HTTP/2 preface',
      };
    case 2:
      return {
        chunks: [
          Buffer.from(
            '16030100a5010000a10303' +
              '00'.repeat(32) +
              '000020c02bc02fc02cc030cca9cca8c013c014009c009d002f0035000a0100',
            'hex',
          ),
        ],
        expect: 0,
        label: 'TLS ClientHello',
      };
    case 3:
      return {
        chunks: [
          Buffer.from(
            Array.from({ length: rng.size(1, 50) }, () =>
              rng.text(rng.size(0, 200), 'GETPOST /:HTP1.\r\n\t abc{}"'),
            ).join('\r\n'),
            'latin1',
          ),
        ],
        expect: 0,
        label: 'text garbage',
      };
    default:
      return { chunks: [Buffer.from('\r\n'.repeat(rng.size(1, 10_000)))], expect: 0, label: 'blank lines' };
  }
}
