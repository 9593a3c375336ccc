import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { KyselyAuthorityStore, openAuthorityDb } from '@volact/authority';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { startService, type Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

type Reply = { status: number; body: any };

/** A self-signed certificate for 127.0.0.1 (a new key pair each time), as PEM files. */
function selfSigned(cert: string, key: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
}

/** The SHA-256 fingerprint of the certificate a TLS port serves to a new connection. */
function servedCertificate(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
  });
}

/** Polls until `check` holds (a signal is handled on the process's own time). */
async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) assert.fail('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The secret part of a token (vat_T<10 hex>_<secret>; the secret may itself hold underscores). */
const secretOf = (token: string) => token.slice('vat_T0000000000_'.length);

/** One HTTP(S) call with an optional bearer token; the body is sent as given (string or object). */
function call(
  port: number,
  method: string,
  path: string,
  opts: {
    token?: string;
    body?: unknown;
    raw?: string | Buffer;
    headers?: Record<string, string>;
    tls?: { ca: string };
  } = {},
): Promise<Reply> {
  const text = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const headers: Record<string, string | number> = {
    ...(text !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) } : {}),
    ...opts.headers,
  };
  if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  const request = opts.tls ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers,
        ...(opts.tls ? { ca: opts.tls.ca, servername: '127.0.0.1' } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let parsed: unknown = body;
          try {
            parsed = JSON.parse(body);
          } catch {
            /* keep text */
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      },
    );
    req.on('error', reject);
    req.end(text);
  });
}

/** The admin API of a real authority process: tokens and scopes, audit, OpenAPI, bad input, TLS. */
describe('admin API', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-admin-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let service: Service;
  let store: KyselyAuthorityStore;
  const tokens: Record<string, { id: string; token: string }> = {};
  const rows = () => store.rowCounts();

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 21, 9));
    world = await makeAuthority(tmp.path, clock.env());
    for (const scope of ['read', 'issue', 'approve', 'admin']) {
      const r = await volact(
        ['authority', 'token', 'create', '--dir', world.dir, '--name', `${scope} token`, '--scope', scope, '--json'],
        clock.env(),
      );
      assert.equal(r.code, 0, r.stderr);
      tokens[scope] = r.json;
    }
    service = await world.serve();
    store = new KyselyAuthorityStore(await openAuthorityDb(join(world.dir, 'authority.db')));
  });

  after(async () => {
    await store?.close();
    await service?.stop();
    tmp.cleanup();
  });

  it('serves an OpenAPI document generated from the route table and its request schemas', async () => {
    const doc = (await call(service.port, 'GET', '/v1/openapi.json')).body;
    assert.equal(doc.openapi, '3.1.0');
    const maks = doc.paths['/v1/admin/maks'].post;
    assert.deepEqual(maks.security, [{ bearer: ['issue'] }]);
    const schema = maks.requestBody.content['application/json'].schema;
    assert.deepEqual(schema.required, ['v', 'edition', 'activations']);
    assert.deepEqual(schema.properties.activations, { type: 'integer', minimum: 1, maximum: 10_000_000 });
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(doc.paths['/v1/mak-activations'].post.security, [], 'public endpoints need no token');
    // every documented operation exists (no 404), and the admin ones ask for a token first
    for (const [path, ops] of Object.entries<Record<string, { security: unknown[] }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const r = await call(service.port, method.toUpperCase(), path, method === 'post' ? { raw: '{}' } : {});
        assert.notEqual(r.body?.code, 'NOT_FOUND', `${method} ${path}`);
        if (op.security.length) assert.equal(r.status, 401, `${method} ${path} without a token`);
      }
    }
  });

  it('checks tokens and scopes before reading the body: missing, malformed, wrong secret, wrong scope', async () => {
    const before = await rows();
    const body = { v: 1, edition: 'desk-pro', activations: 5 };
    const cases: [string, Record<string, unknown>, number, string][] = [
      ['no token', {}, 401, 'TOKEN_MISSING'],
      ['not a bearer token', { headers: { authorization: 'Basic dXNlcjpwYXNz' } }, 401, 'TOKEN_INVALID'],
      ['malformed token', { token: 'vat_nonsense' }, 401, 'TOKEN_INVALID'],
      ['right ID, wrong secret', { token: tokens.issue!.token.slice(0, -4) + 'AAAA' }, 401, 'TOKEN_INVALID'],
      ['unknown ID', { token: `vat_T0000000000_${'A'.repeat(32)}` }, 401, 'TOKEN_INVALID'],
      ['read scope for a write', { token: tokens.read!.token }, 403, 'TOKEN_SCOPE'],
      ['approve scope for issuing', { token: tokens.approve!.token }, 403, 'TOKEN_SCOPE'],
    ];
    for (const [what, opts, status, code] of cases) {
      const r = await call(service.port, 'POST', '/v1/admin/maks', { body, ...opts });
      assert.deepEqual([r.status, r.body.code], [status, code], what);
      assert.ok(r.body.fix.length > 0, what);
    }
    const noToken = await call(service.port, 'POST', '/v1/admin/maks', { raw: 'x'.repeat(200_000) });
    assert.equal(noToken.body.code, 'TOKEN_MISSING', 'an oversized body without a token is refused for the token');
    assert.deepEqual(await rows(), before, 'nothing was written');

    const issued = await call(service.port, 'POST', '/v1/admin/maks', { body, token: tokens.issue!.token });
    assert.equal(issued.status, 201);
    assert.match(issued.body.key, /^[2-9A-Y]{5}(-[2-9A-Y]{5}){4}$/);
    const listed = await call(service.port, 'GET', '/v1/admin/maks', { token: tokens.read!.token });
    assert.equal(listed.status, 200);
    const row = listed.body.find((m: { id: string }) => m.id === issued.body.id);
    assert.equal(row.key, `*****-*****-*****-*****-${issued.body.key.slice(-5)}`);
    assert.ok(!JSON.stringify(listed.body).includes(issued.body.key), 'a listing never shows a whole key');
    assert.ok(!('keyHash' in row));
    const viaAdmin = await call(service.port, 'GET', '/v1/admin/host-keys', { token: tokens.admin!.token });
    assert.equal(viaAdmin.status, 200, 'admin implies every scope');
  });

  it('stores tokens hashed, lists them without secrets, and revokes them at once', async () => {
    const list = await call(service.port, 'GET', '/v1/admin/tokens', { token: tokens.admin!.token });
    assert.equal(list.status, 200);
    assert.ok(list.body.length >= 4);
    const text = JSON.stringify(list.body);
    for (const t of Object.values(tokens)) assert.ok(!text.includes(secretOf(t.token)), 'no secret in the listing');
    assert.ok(!text.includes('tokenHash'));
    for (const file of readdirSync(world.dir).filter((f) => f.startsWith('authority.db'))) {
      const bytes = readFileSync(join(world.dir, file)).toString('latin1');
      for (const t of Object.values(tokens))
        assert.ok(!bytes.includes(secretOf(t.token)), `secret in clear in ${file}`);
    }
    const created = await call(service.port, 'POST', '/v1/admin/tokens', {
      token: tokens.admin!.token,
      body: { v: 1, name: 'short-lived', scopes: ['read'] },
    });
    assert.equal(created.status, 201);
    assert.equal((await call(service.port, 'GET', '/v1/admin/maks', { token: created.body.token })).status, 200);
    assert.equal(
      (
        await call(service.port, 'POST', '/v1/admin/tokens', {
          token: tokens.read!.token,
          body: { v: 1, name: 'escalate', scopes: ['admin'] },
        })
      ).body.code,
      'TOKEN_SCOPE',
      'a read token cannot mint an admin token',
    );
    const revoked = await call(service.port, 'POST', '/v1/admin/tokens/revoke', {
      token: tokens.admin!.token,
      body: { v: 1, id: created.body.id },
    });
    assert.equal(revoked.status, 200);
    assert.equal(
      (await call(service.port, 'GET', '/v1/admin/maks', { token: created.body.token })).body.code,
      'TOKEN_INVALID',
    );
    const again = await call(service.port, 'POST', '/v1/admin/tokens/revoke', {
      token: tokens.admin!.token,
      body: { v: 1, id: created.body.id },
    });
    assert.deepEqual([again.status, again.body.code], [404, 'REQUEST_UNKNOWN']);
  });

  it('records every write in the audit log, in the same transaction, and nothing for refused writes', async () => {
    const before = await rows();
    const hostKey = await call(service.port, 'POST', '/v1/admin/host-keys', {
      token: tokens.issue!.token,
      body: { v: 1, group: 'desk-2026', hosts: 2 },
    });
    assert.equal(hostKey.status, 201);
    const filed = await call(service.port, 'POST', '/v1/increase-requests', {
      body: { v: 1, key: hostKey.body.key, what: 'hosts', amount: 3, reason: 'second site' },
    });
    assert.equal(filed.status, 201);
    const decided = await call(service.port, 'POST', '/v1/admin/requests/decide', {
      token: tokens.approve!.token,
      body: { v: 1, id: filed.body.id, decision: 'approve', amount: 2, note: 'two for now' },
    });
    assert.equal(decided.status, 200);
    assert.equal(decided.body.state, 'approved');
    const twice = await call(service.port, 'POST', '/v1/admin/requests/decide', {
      token: tokens.approve!.token,
      body: { v: 1, id: filed.body.id, decision: 'reject' },
    });
    assert.deepEqual([twice.status, twice.body.code], [409, 'REQUEST_DECIDED']);
    const unknown = await call(service.port, 'POST', '/v1/admin/release-host', {
      token: tokens.approve!.token,
      body: { v: 1, hostKeyId: hostKey.body.id, hostId: 'Hnobody' },
    });
    assert.equal(unknown.body.code, 'REQUEST_UNKNOWN');

    const after = await rows();
    assert.equal(after.auditLog! - before.auditLog!, 2, 'two writes succeeded, two were refused');
    assert.equal(after.hostKeys! - before.hostKeys!, 1);
    const audit = await call(service.port, 'GET', '/v1/admin/audit?limit=2', { token: tokens.admin!.token });
    assert.deepEqual(
      audit.body.map((a: { actor: string; action: string; target: string }) => [a.actor, a.action, a.target]),
      [
        [`token:${tokens.approve!.id}`, 'request.approve', filed.body.id],
        [`token:${tokens.issue!.id}`, 'host-key.issue', hostKey.body.id],
      ],
    );
    assert.ok(!JSON.stringify(audit.body).includes(hostKey.body.key), 'the audit log never holds a whole key');
    assert.equal(
      (await call(service.port, 'GET', '/v1/admin/audit', { token: tokens.read!.token })).body.code,
      'TOKEN_SCOPE',
      'the audit log is for admins',
    );
    const cli = await volact(['authority', 'audit', '--dir', world.dir, '--json', '--limit', '500'], clock.env());
    assert.ok(
      cli.json.some(
        (a: { actor: string; action: string }) => a.actor.startsWith('cli:') && a.action === 'token.create',
      ),
      'CLI writes are audited under the login',
    );
  });

  it('answers malformed, oversized, wrong-typed and hostile bodies on every admin and public POST endpoint with 4xx and writes nothing', async () => {
    const admin = tokens.admin!.token;
    const endpoints = [
      '/v1/offline-confirmations',
      '/v1/mak-activations',
      '/v1/host-activations',
      '/v1/hypervisor-activations',
      '/v1/directory-activations',
      '/v1/increase-requests',
      '/v1/increase-requests/status',
      '/v1/admin/host-keys',
      '/v1/admin/datacenter-keys',
      '/v1/admin/maks',
      '/v1/admin/requests/decide',
      '/v1/admin/release-host',
      '/v1/admin/tokens',
      '/v1/admin/tokens/revoke',
      '/v1/admin/offline-confirmations',
    ];
    const bodies: [string, string | Buffer, number, string][] = [
      ['malformed', '{"v":1,', 400, 'BAD_JSON'],
      ['not an object', '[1,2,3]', 400, 'BAD_REQUEST'],
      ['empty', '', 400, 'BAD_JSON'],
      ['wrong version', '{"v":2}', 400, 'BAD_REQUEST'],
      [
        'prototype pollution',
        '{"v":1,"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}',
        400,
        'BAD_REQUEST',
      ],
      ['oversized', JSON.stringify({ v: 1, name: 'x'.repeat(2_000_000) }), 413, 'BODY_TOO_LARGE'],
      ['binary (not UTF-8)', Buffer.from([0xff, 0xfe, 0x00, 0x7b]), 400, 'BAD_ENCODING'],
    ];
    const typed: Record<string, unknown[]> = {
      '/v1/admin/host-keys': [
        { v: 1, group: 7 },
        { v: 1, group: 'desk-2026', hosts: 0 },
        { v: 1, group: 'desk-2026', hosts: 1.5 },
        { v: 1, group: 'no-such-group' },
      ],
      '/v1/admin/datacenter-keys': [
        { v: 1, group: 7 },
        { v: 1, group: 'server-2026', activations: 0 },
        { v: 1, group: 'desk-2026' },
        { v: 1, group: 'no-such-group' },
      ],
      '/v1/admin/maks': [
        { v: 1, edition: 'desk-pro', activations: '5' },
        { v: 1, edition: 'desk-pro', activations: -1 },
        { v: 1, edition: 'nope', activations: 1 },
        { v: 1, edition: 'desk-pro', activations: 1, extra: true },
      ],
      '/v1/admin/requests/decide': [
        { v: 1, id: '../../etc', decision: 'approve' },
        { v: 1, id: 'IR-1', decision: 'maybe' },
        { v: 1, id: 'IR-nope', decision: 'approve' },
      ],
      '/v1/admin/release-host': [
        { v: 1, hostKeyId: null, hostId: 'H1' },
        { v: 1, hostKeyId: 'HK-x', hostId: 'H1' },
      ],
      '/v1/admin/tokens': [
        { v: 1, name: 'x', scopes: ['root'] },
        { v: 1, name: 'x', scopes: [] },
        { v: 1, name: '', scopes: ['read'] },
        { v: 1, name: 'x', scopes: 'admin' },
      ],
      '/v1/admin/tokens/revoke': [
        { v: 1, id: 'T-unknown' },
        { v: 1, id: ['T1'] },
      ],
      '/v1/mak-activations': [
        { v: 1, makKey: 12 },
        {
          v: 1,
          makKey: '22222-22222-22222-22222-22222',
          machineId: 'm1',
          parts: { osId: 'x', cpu: 'x', board: 'x', disks: [], nics: [] },
          nonce: 'n'.repeat(16),
        },
        {
          v: 1,
          makKey: '22222-22222-22222-22222-22223',
          machineId: 'm1',
          parts: { osId: 'x'.repeat(43), cpu: 'x'.repeat(43), board: 'x'.repeat(43), disks: [], nics: [] },
          nonce: 'n'.repeat(16),
        },
      ],
      '/v1/host-activations': [
        { v: 1, hostKey: 'x', hostPublicKey: 'y', hostName: 'h', requestId: 'r' },
        {
          v: 1,
          hostKey: '22222-22222-22222-22222-22223',
          hostPublicKey: 'A'.repeat(43),
          hostName: 'h',
          requestId: 'iid:' + 'A'.repeat(43),
        },
      ],
      '/v1/hypervisor-activations': [
        { v: 1, hostKey: 'x', hostPublicKey: 'y', hostName: 'h', requestId: 'r' },
        {
          v: 1,
          hostKey: '22222-22222-22222-22222-22223',
          hostPublicKey: 'A'.repeat(43),
          hostName: 'h',
          requestId: 'iid:' + 'A'.repeat(43),
        },
      ],
      '/v1/directory-activations': [
        {
          v: 1,
          hostKey: 'x',
          directoryId: 'not-a-uuid',
          directoryKind: 'openldap',
          suffix: 'dc=x',
          name: 'office',
          requestId: 'r'.repeat(16),
        },
        {
          v: 1,
          hostKey: '22222-22222-22222-22222-22223',
          directoryId: '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a',
          directoryKind: 'openldap',
          suffix: 'dc=x',
          name: 'x'.repeat(41),
          requestId: 'r'.repeat(16),
        },
        {
          v: 1,
          hostKey: '22222-22222-22222-22222-22223',
          directoryId: '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a',
          directoryKind: 'novell',
          suffix: 'dc=x',
          name: 'office',
          requestId: 'r'.repeat(16),
        },
        {
          v: 1,
          hostKey: '22222-22222-22222-22222-22223',
          directoryId: '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a',
          directoryKind: 'openldap',
          suffix: 'dc=x',
          name: 'office,cn=admin',
          requestId: 'r'.repeat(16),
        },
        {
          v: 1,
          hostKey: '22222-22222-22222-22222-22223',
          directoryId: '0c5e3b7a-1f2d-4c8e-9a6b-3d2f1e0c9b8a',
          directoryKind: 'openldap',
          suffix: 'dc=x',
          name: 'office',
          requestId: 'iid:' + 'A'.repeat(43),
        },
      ],
      '/v1/increase-requests': [
        { v: 1, key: 'x', what: 'everything', amount: 1, reason: 'r' },
        { v: 1, key: '22222-22222-22222-22222-22222', what: 'hosts', amount: 0, reason: 'r' },
        { v: 1, key: 'k', what: 'hosts', amount: 1e12, reason: 'r' },
      ],
      '/v1/increase-requests/status': [
        { v: 1, key: 'k', id: '../x' },
        { v: 1, key: 5, id: 'IR-1' },
      ],
      '/v1/offline-confirmations': [
        { v: 1, installationId: 5 },
        { v: 1, installationId: 'x'.repeat(301) },
        { v: 1, installationId: '2222' },
        { v: 1, installationId: 'O'.repeat(87) },
      ],
      '/v1/admin/offline-confirmations': [
        { v: 1, installationIds: [] },
        { v: 1, installationIds: Array(1001).fill('22222222') },
        { v: 1, installationIds: [42] },
      ],
    };
    const before = await rows();
    for (const path of endpoints) {
      for (const [what, raw, status, code] of bodies) {
        const r = await call(service.port, 'POST', path, { raw, token: admin });
        assert.deepEqual([r.status, r.body.code], [status, code], `${what} on ${path}`);
      }
      for (const body of typed[path]!) {
        const r = await call(service.port, 'POST', path, { body, token: admin });
        assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(body).slice(0, 80)} on ${path}: ${r.status}`);
        assert.ok(
          typeof r.body.code === 'string' && r.body.message && r.body.fix,
          `stable code, message and fix for ${path}`,
        );
      }
    }
    const bulk = await call(service.port, 'POST', '/v1/admin/offline-confirmations', {
      body: { v: 1, installationIds: ['22222222-33333333', 'nonsense'] },
      token: admin,
    });
    assert.equal(bulk.status, 200, 'a bulk call answers each ID on its own');
    assert.deepEqual(
      bulk.body.results.map((r: { ok: boolean; error: { code: string } }) => [r.ok, r.error.code]),
      [
        [false, 'CODE_MALFORMED'],
        [false, 'CODE_MALFORMED'],
      ],
    );
    for (const query of [
      '/v1/admin/audit?limit=0',
      '/v1/admin/audit?limit=abc',
      '/v1/admin/requests?state=everything',
    ]) {
      const r = await call(service.port, 'GET', query, { token: admin });
      assert.equal(r.status, 400, query);
    }
    assert.deepEqual(await rows(), before, 'no half-written state anywhere');
    const ok = await call(service.port, 'POST', '/v1/admin/maks', {
      body: { v: 1, edition: 'desk-pro', activations: 1 },
      token: tokens.issue!.token,
    });
    assert.equal(ok.status, 201, 'a valid request still succeeds');
  });

  it('serves HTTPS with --tls-cert and --tls-key; plain HTTP only on loopback', async () => {
    const cert = join(tmp.path, 'tls.crt');
    const key = join(tmp.path, 'tls.key');
    selfSigned(cert, key);
    const tls = await startService(
      ['authority', 'serve', '--dir', world.dir, '--port', '0', '--tls-cert', cert, '--tls-key', key],
      clock.env(),
    );
    try {
      const ca = readFileSync(cert, 'utf8');
      const health = await call(tls.port, 'GET', '/v1/health', { tls: { ca } });
      assert.deepEqual([health.status, health.body], [200, { ok: true }]);
      const maks = await call(tls.port, 'GET', '/v1/admin/maks', { tls: { ca }, token: tokens.read!.token });
      assert.equal(maks.status, 200);
      // a MAK machine activates over HTTPS, trusting the test CA the way an operator would
      const mak = await call(tls.port, 'POST', '/v1/admin/maks', {
        tls: { ca },
        token: tokens.issue!.token,
        body: { v: 1, edition: 'desk-pro', activations: 1 },
      });
      const pc = join(tmp.path, 'tls-pc');
      const fp = join(tmp.path, 'tls-pc.fp.json');
      writeFileSync(fp, JSON.stringify({ osId: 'os-tls', cpu: 'c', board: 'b', disks: ['d'], nics: ['n'] }));
      const env = { ...clock.env(), VOLACT_FINGERPRINT_FILE: fp, NODE_EXTRA_CA_CERTS: cert };
      assert.equal(
        (
          await volact(
            ['client', 'trust', world.rootPub, '--state', pc, '--authority', `https://127.0.0.1:${tls.port}`],
            env,
          )
        ).code,
        0,
      );
      assert.equal((await volact(['slmgr', '--state', pc, '-ipk', mak.body.key], env)).code, 0);
      const ato = await volact(['slmgr', '--state', pc, '-ato', '--json'], env);
      assert.equal(ato.code, 0, ato.stdout + ato.stderr);
      assert.equal(ato.json.outcome, 'makActivated');
      await assert.rejects(call(tls.port, 'GET', '/v1/health'), 'plain HTTP is not answered on the TLS port');

      // systemctl reload (SIGHUP): a renewed certificate serves new connections without a restart
      const first = await servedCertificate(tls.port);
      assert.equal(first, new X509Certificate(readFileSync(cert)).fingerprint256);
      selfSigned(cert, key);
      const renewed = new X509Certificate(readFileSync(cert)).fingerprint256;
      assert.notEqual(renewed, first);
      tls.child.kill('SIGHUP');
      await until(() => /reloaded the TLS certificate and key/.test(tls.output()));
      assert.equal(await servedCertificate(tls.port), renewed);
      // a pair that does not load is refused, and the certificate in use stays
      writeFileSync(key, 'not a key');
      tls.child.kill('SIGHUP');
      await until(() => /reload failed, the certificate in use stays/.test(tls.output()));
      assert.equal(await servedCertificate(tls.port), renewed);
      assert.equal(tls.child.exitCode, null);
    } finally {
      await tls.stop();
    }
    const open = await volact([
      'authority',
      'serve',
      '--dir',
      world.dir,
      '--port',
      '0',
      '--listen',
      '0.0.0.0',
      '--json',
    ]);
    assert.deepEqual([open.code, open.json.error.code], [2, 'TLS_REQUIRED']);
    const half = await volact(['authority', 'serve', '--dir', world.dir, '--port', '0', '--tls-cert', cert, '--json']);
    assert.deepEqual([half.code, half.json.error.code], [2, 'USAGE']);
  });
});
