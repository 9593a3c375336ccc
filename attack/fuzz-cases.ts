/**
 * The generator: case N of seed S is always the same request (up to the world's keys and the
 * clock), whatever ran before it. It picks an endpoint, makes a body, then a way to send it:
 * an ordinary request with a mutated body, odd headers or query, raw framing, a pipeline, or
 * garbage.
 */
import { makeBody, poisonedBody } from './fuzz-bodies.js';
import { endpointName, type Endpoint } from './fuzz-endpoints.js';
import { framingCase, garbageCase, hostilePath, requestBytes, type Head, type RawRequest } from './fuzz-framing.js';
import { NUMBER_TEXTS } from './fuzz-values.js';
import { Rng, B64URL } from './fuzz-random.js';
import type { HttpRequest } from './fuzz-send.js';
import type { Fixtures } from './fuzz-world.js';

export type Case = { n: number; endpoint: Endpoint; label: string } & (
  { via: 'http'; http: HttpRequest } | { via: 'raw'; raw: RawRequest }
);

const CONTENT_TYPES = [
  'application/json; charset=utf-8',
  'application/JSON',
  'Application/Json',
  'text/plain',
  'text/plain;charset=UTF-8',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/json; charset=latin1',
  '',
  '*/*',
  'application/jsonx',
  'application/json;;',
  'application/merge-patch+json',
  'application/json, text/plain',
  ' application/json',
  'application/json\t',
  'json',
  'text/json',
];

const QUERY_VALUES = [
  ...NUMBER_TEXTS,
  '',
  '%00',
  '%ff',
  'pending',
  'approved',
  'several',
  'activated',
  '1&limit=2',
  'x'.repeat(5000),
  '%E2%80%AE',
  '+',
  '%2B1',
];

/** The Authorization header of a case and what it is. */
function authorization(rng: Rng, e: Endpoint, f: Fixtures): [string | undefined, string] {
  if (!e.scope && !rng.chance(0.05)) return [undefined, ''];
  const which = rng.weighted([
    [45, 'admin'],
    [15, 'read'],
    [10, 'none'],
    [30, 'bad'],
  ] as const);
  if (which === 'admin') return [`Bearer ${f.adminToken}`, 'admin token'];
  if (which === 'read') return [`Bearer ${f.readToken}`, 'read token'];
  if (which === 'none') return [undefined, 'no token'];
  const flipped = f.adminToken.slice(0, -1) + (f.adminToken.endsWith('A') ? 'B' : 'A');
  const bad = rng.pick([
    'Bearer',
    'Bearer ',
    `bearer ${f.adminToken}`,
    `Bearer  ${f.adminToken}`,
    `Bearer ${flipped}`,
    `Bearer ${f.adminToken}  `,
    `Basic ${Buffer.from('admin:admin').toString('base64')}`,
    `Bearer vat_T0123456789_${'A'.repeat(32)}`,
    `Bearer ${'x'.repeat(rng.size(100, 12_000))}`,
    `Bearer ${f.adminToken}, Bearer ${f.readToken}`,
    `Bearer ${f.adminToken.slice(0, 20)}`,
    `Bearer vat_T${rng.text(10, '0123456789abcdef')}_${rng.text(32, B64URL)}`,
    `Bearer ${f.readToken.replace('vat_', 'VAT_')}`,
    'Bearer \u00ff\u00fe',
    'Bearer null',
    'Bearer undefined',
  ]);
  return [bad, 'bad token'];
}

function query(rng: Rng, e: Endpoint): string {
  const names = [...(e.query ?? []), 'limit', rng.text(rng.size(1, 10), 'abcxyz_[]')];
  const n = rng.size(1, 6);
  return Array.from({ length: n }, () => `${rng.pick(names)}=${rng.pick(QUERY_VALUES)}`).join('&');
}

export function makeCase(seed: number, n: number, f: Fixtures, endpoints: readonly Endpoint[]): Case {
  const rng = new Rng(seed, n);
  const e = rng.weighted(endpoints.map((x) => [x.weight ?? (x.seed ? 3 : 1), x] as const));
  const seedBody = e.seed?.(f, rng);
  const body = makeBody(rng, seedBody);
  const [auth, authLabel] = authorization(rng, e, f);
  const withBody = e.method === 'POST' || rng.chance(0.1);
  let kind = rng.weighted([
    [58, 'body'],
    [12, 'headers'],
    [6, 'query'],
    [16, 'framing'],
    [4, 'pipeline'],
    [4, 'garbage'],
  ] as const);
  // a handler that ignores the body accepts anything, so it is sent only in ways that always get the answer
  if (e.readsBody === false && (kind === 'framing' || kind === 'garbage')) kind = 'body';
  const name = endpointName(e);
  const label = (what: string) => `${name} ${kind}: ${what}${authLabel ? ` [${authLabel}]` : ''}`;
  const headers: Record<string, string> = { ...(auth !== undefined ? { authorization: auth } : {}) };
  if (withBody) headers['content-type'] = 'application/json';

  if (kind === 'body' || kind === 'headers' || kind === 'query') {
    let path = e.path;
    let what = withBody ? body.label : 'no body';
    if (kind === 'query') {
      path = rng.chance(0.8) ? `${e.path}?${query(rng, e)}` : hostilePath(rng, e.path);
      what = `${path.slice(0, 80)} ${what}`;
    }
    if (kind === 'headers') {
      const ct = rng.pick(CONTENT_TYPES);
      if (ct === '') delete headers['content-type'];
      else headers['content-type'] = ct;
      if (rng.chance(0.3))
        headers['x-forwarded-for'] = rng.pick(['10.0.0.1', '1.1.1.1, 2.2.2.2', '::1', 'not an address', '']);
      if (rng.chance(0.2)) headers.cookie = 'a'.repeat(rng.size(1, 20_000));
      if (rng.chance(0.2)) headers['content-encoding'] = rng.pick(['gzip', 'br', 'identity', 'x']);
      if (rng.chance(0.2)) headers.connection = rng.pick(['close', 'keep-alive', 'upgrade']);
      what = `content-type ${JSON.stringify(ct)} ${what}`;
    }
    const chunked = withBody && rng.chance(0.1);
    return {
      n,
      endpoint: e,
      label: label(what + (chunked ? ' (chunked)' : '')),
      via: 'http',
      http: { method: e.method, path, headers, body: withBody ? body.bytes : undefined, chunked },
    };
  }

  const head: Head = {
    method: e.method,
    target: e.path,
    version: 'HTTP/1.1',
    headers: [
      'Host: localhost',
      'Content-Type: application/json',
      ...(auth !== undefined ? [`Authorization: ${auth}`] : []),
    ],
  };
  if (kind === 'pipeline') {
    const k = rng.size(2, 10);
    const requests = Array.from({ length: k }, (_, i) => {
      const b = i === 0 ? body.bytes : makeBody(rng, e.seed?.(f, rng)).bytes;
      const last = i === k - 1 && rng.chance(0.3) ? ['Connection: close'] : [];
      return requestBytes({ ...head, headers: [...head.headers, `Content-Length: ${b.length}`, ...last] }, b);
    });
    return {
      n,
      endpoint: e,
      label: label(`${k} requests`),
      via: 'raw',
      raw: { chunks: [Buffer.concat(requests)], expect: k, label: `${k} requests` },
    };
  }
  const raw = kind === 'garbage' ? garbageCase(rng) : framingCase(rng, head, poisonedBody(seedBody), body.bytes);
  return { n, endpoint: e, label: label(raw.label), via: 'raw', raw };
}
