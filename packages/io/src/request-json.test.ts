import assert from 'node:assert/strict';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { VolactError, errorBody, int, obj, str } from '@volact/protocol';
import {
  expectAnswer,
  requestJson,
  type RequestFailed,
  type RequestFailure,
  type RequestTarget,
} from './request-json.js';

const answer = obj({ name: str({ min: 1, max: 20 }), n: int({ min: 0, max: 10 }) });

/** One route per test, answered the same over TCP and over the Unix socket. */
const routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {
  '/echo': (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const got = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name: string };
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ name: `${req.method} ${got.name}`, n: 1 }));
    });
  },
  '/get': (req, res) => res.writeHead(200).end(JSON.stringify({ name: req.method!, n: 2 })),
  '/declared-large': (_req, res) => res.writeHead(200, { 'content-length': 5000 }).end('x'.repeat(5000)),
  // chunked and endless: only a limit enforced while reading ends it
  '/endless': (_req, res) => {
    res.writeHead(200);
    const drip = setInterval(() => res.write('x'.repeat(512)), 1);
    res.on('close', () => clearInterval(drip));
  },
  '/silent': () => undefined,
  // a byte every 50 ms: never idle for long, yet never done
  '/trickle': (_req, res) => {
    res.writeHead(200);
    const drip = setInterval(() => res.write(' '), 50);
    res.on('close', () => clearInterval(drip));
  },
  '/html': (_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>hello</html>'),
  '/proxy-error': (_req, res) => res.writeHead(502, { 'content-type': 'text/html' }).end('<html>Bad Gateway</html>'),
  '/wrong-shape': (_req, res) => res.writeHead(200).end(JSON.stringify({ name: 'a', n: 99 })),
  '/extra-field': (_req, res) => res.writeHead(200).end(JSON.stringify({ name: 'a', n: 1, admin: true })),
  '/limited': (_req, res) => {
    const err = new VolactError('RATE_LIMITED', { what: 'this address', limit: 60, retryAfter: 7 });
    res.writeHead(err.status).end(JSON.stringify(errorBody(err, 'req-1')));
  },
  '/error-shape-at-200': (_req, res) =>
    res.writeHead(200).end(JSON.stringify(errorBody(new VolactError('KEY_UNKNOWN')))),
  '/cut': (req, res) => {
    res.writeHead(200, { 'content-length': 100 });
    res.write('{"name":');
    setTimeout(() => req.socket.destroy(), 20);
  },
};

const handle = (req: IncomingMessage, res: ServerResponse) => routes[req.url ?? '']!(req, res);

let tcp: Server;
let unix: Server;
let dir: string;
let base: string;
let socketPath: string;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'request-json-'));
  socketPath = join(dir, 'admin.sock');
  tcp = createServer(handle);
  unix = createServer(handle);
  await new Promise<void>((r) => tcp.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => unix.listen(socketPath, r));
  base = `http://127.0.0.1:${(tcp.address() as AddressInfo).port}`;
});

after(async () => {
  tcp.closeAllConnections();
  unix.closeAllConnections();
  await Promise.all([new Promise((r) => tcp.close(r)), new Promise((r) => unix.close(r))]);
  rmSync(dir, { recursive: true, force: true });
});

/** The caller's mapping, as the host's and the client's: one code, the reason in it; the failure kept for the test. */
function call(target: RequestTarget, opts: { body?: unknown; limit?: number; timeoutMs?: number } = {}) {
  const seen: { failure?: RequestFailure } = {};
  const fail = (e: RequestFailed) => {
    seen.failure = e.failure;
    return new VolactError('HOST_UNREACHABLE', { target: 'test', reason: e.message });
  };
  const done = requestJson(target, {
    method: opts.body === undefined ? 'GET' : 'POST',
    body: opts.body,
    limit: opts.limit ?? 1024,
    timeoutMs: opts.timeoutMs ?? 2000,
    answer,
    fail,
  });
  return { done, seen };
}

/** Expects HOST_UNREACHABLE with this reason, made from a failure of this kind. */
async function fails(c: ReturnType<typeof call>, kind: RequestFailure['kind'], reason: string | RegExp) {
  await assert.rejects(c.done, (e: VolactError) => {
    assert.equal(e.code, 'HOST_UNREACHABLE');
    if (typeof reason === 'string') assert.equal(e.params.reason, reason);
    else assert.match(String(e.params.reason), reason);
    return true;
  });
  assert.equal(c.seen.failure?.kind, kind);
}

describe('requestJson', () => {
  test('the diagnostic trace is written only to a private file of this user, never through a link', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'volact-trace-'));
    const saved = process.env.VOLACT_TRACE_EXCHANGES;
    const traced = async (file: string) => {
      process.env.VOLACT_TRACE_EXCHANGES = file;
      try {
        await call(`${base}/get`).done;
      } finally {
        if (saved === undefined) delete process.env.VOLACT_TRACE_EXCHANGES;
        else process.env.VOLACT_TRACE_EXCHANGES = saved;
      }
    };
    try {
      const fresh = join(dir, 'fresh.jsonl');
      await traced(fresh);
      assert.equal(statSync(fresh).mode & 0o777, 0o600);
      assert.equal(JSON.parse(readFileSync(fresh, 'utf8')).status, 200);
      const open = join(dir, 'open.jsonl'); // made by someone else first, readable by all
      writeFileSync(open, '');
      chmodSync(open, 0o644);
      await traced(open);
      assert.equal(readFileSync(open, 'utf8'), '', 'nothing for others to read');
      const target = join(dir, 'target');
      writeFileSync(target, '', { mode: 0o600 });
      const link = join(dir, 'link.jsonl');
      symlinkSync(target, link);
      await traced(link);
      assert.equal(readFileSync(target, 'utf8'), '', 'a symbolic link is not followed');
      assert.ok(existsSync(link));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('posts a JSON body and returns the answer, over TCP and over a Unix socket', async () => {
    assert.deepEqual(await call(`${base}/echo`, { body: { name: 'tcp' } }).done, { name: 'POST tcp', n: 1 });
    assert.deepEqual(await call({ socketPath, path: '/echo' }, { body: { name: 'unix' } }).done, {
      name: 'POST unix',
      n: 1,
    });
    const port = (tcp.address() as AddressInfo).port;
    assert.deepEqual(await call({ host: '127.0.0.1', port, path: '/get' }).done, { name: 'GET', n: 2 });
  });

  test('refuses an answer whose Content-Length is over the limit without reading it', async () => {
    await fails(call(`${base}/declared-large`, { limit: 4096 }), 'tooLarge', 'answer too large');
  });

  test('drops an endless answer once it passes the limit, over TCP and over a Unix socket', async () => {
    const started = Date.now();
    await fails(call(`${base}/endless`, { limit: 64 * 1024, timeoutMs: 10_000 }), 'tooLarge', 'answer too large');
    await fails(
      call({ socketPath, path: '/endless' }, { limit: 64 * 1024, timeoutMs: 10_000 }),
      'tooLarge',
      'answer too large',
    );
    assert.ok(Date.now() - started < 5000, 'ended by the limit, not by the timeout');
  });

  test('gives up on a server that never answers after the timeout', async () => {
    const started = Date.now();
    await fails(call(`${base}/silent`, { timeoutMs: 300 }), 'timeout', 'no answer within 300 ms');
    await fails(call({ socketPath, path: '/silent' }, { timeoutMs: 300 }), 'timeout', 'no answer within 300 ms');
    const took = Date.now() - started;
    assert.ok(took >= 600 && took < 3000, `took ${took} ms`);
  });

  test('the timeout covers the whole answer: a server that trickles bytes is cut off too', async () => {
    await fails(call(`${base}/trickle`, { timeoutMs: 400 }), 'timeout', 'no answer within 400 ms');
  });

  test('a 200 answer that is not JSON is an unexpected answer', async () => {
    await fails(call(`${base}/html`), 'notJson', 'unexpected answer: not JSON');
  });

  test('an error status without a volact error body is reported with its HTTP status', async () => {
    await fails(call(`${base}/proxy-error`), 'status', 'HTTP 502');
  });

  test('an answer that does not pass the schema names the field and the problem', async () => {
    await fails(call(`${base}/wrong-shape`), 'shape', 'unexpected answer: n must be between 0 and 10');
    await fails(call({ socketPath, path: '/extra-field' }), 'shape', 'unexpected answer: admin is not a known field');
  });

  test('an error answer in the volact shape is thrown as its own code with its parameters', async () => {
    for (const target of [`${base}/limited`, { socketPath, path: '/limited' }] as const) {
      const c = call(target);
      await assert.rejects(c.done, (e: VolactError) => {
        assert.ok(e instanceof VolactError);
        assert.equal(e.code, 'RATE_LIMITED');
        assert.deepEqual(e.params, { what: 'this address', limit: 60, retryAfter: 7 });
        return true;
      });
      assert.equal(c.seen.failure, undefined, 'not a failure of the request');
    }
  });

  test('an error body sent with status 200 is not taken for an error: it fails the schema', async () => {
    await fails(call(`${base}/error-shape-at-200`), 'shape', /^unexpected answer: /);
  });

  test('an answer cut off mid-body is a network failure', async () => {
    await fails(call(`${base}/cut`), 'network', /.+/);
  });

  test('a closed port and a missing socket are network failures with the system error code', async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    const refused = call(`http://127.0.0.1:${port}/get`);
    await fails(refused, 'network', `connect ECONNREFUSED 127.0.0.1:${port}`);
    assert.equal((refused.seen.failure as { code?: string }).code, 'ECONNREFUSED');
    const missing = call({ socketPath: join(dir, 'none.sock'), path: '/get' });
    await fails(missing, 'network', /ENOENT/);
    assert.equal((missing.seen.failure as { code?: string }).code, 'ENOENT');
  });

  test('a target that is not an http or https URL, or a path Node will not send, fails without a request', async () => {
    await fails(call('ftp://127.0.0.1/get'), 'network', 'ftp://127.0.0.1/get is not an http or https URL');
    await fails(call('not a url'), 'network', 'not a url is not an http or https URL');
    await fails(call({ socketPath, path: '/get now' }), 'network', /unescaped characters/);
  });
});

describe('expectAnswer', () => {
  const fail = (e: RequestFailed) => new VolactError('AUTHORITY_UNREACHABLE', { target: 'a', reason: e.message });

  test('an injected transport that rejects with any error is the caller’s failure with its message', async () => {
    await assert.rejects(
      expectAnswer(() => Promise.reject(new Error('connection reset')), answer, fail),
      (e: VolactError) => e.code === 'AUTHORITY_UNREACHABLE' && e.params.reason === 'connection reset',
    );
  });

  test('a reply of an injected transport is checked like a real one', async () => {
    assert.deepEqual(await expectAnswer(async () => ({ status: 201, body: { name: 'x', n: 0 } }), answer, fail), {
      name: 'x',
      n: 0,
    });
    await assert.rejects(
      expectAnswer(async () => ({ status: 200, body: undefined }), answer, fail),
      (e: VolactError) => e.params.reason === 'unexpected answer: not JSON',
    );
    await assert.rejects(
      expectAnswer(
        async () => ({ status: 409, body: errorBody(new VolactError('MAK_LIMIT', { used: 5, limit: 5 })) }),
        answer,
        fail,
      ),
      (e: VolactError) => e.code === 'MAK_LIMIT' && e.params.used === 5,
    );
  });
});
