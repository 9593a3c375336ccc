import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { exchangeJson, type JsonReply } from '@volact/io';
import { authorityApiDocument } from '@volact/authority';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { answerProblem, readTrace, roleOf, traceProblems } from './harness/exchanges.js';
import { activationBody } from './harness/machines.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const hash = () => randomBytes(32).toString('base64url');

/**
 * Every answer matches its description: a scenario with a real authority and host that reaches
 * every operation of the authority (success and error answers: 400, 401, 403, 404, 409, 413,
 * 415, 429) and the host's client API (granted, not yet, refused, not activated), through the
 * JSON client whose trace (VOLACT_TRACE_EXCHANGES, turned on by the harness) records each answer,
 * then checks each recorded answer against the operation's schema at its status.
 */
describe('answers match the OpenAPI descriptions', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-answers-');
  const trace = process.env.VOLACT_TRACE_EXCHANGES!;
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let authority: Service | undefined;
  let host: Service | undefined;
  let admin = '';
  const hostDir = () => join(tmp.path, 'host');

  const call = (
    port: number,
    method: 'GET' | 'POST',
    path: string,
    body?: unknown,
    token?: string,
  ): Promise<JsonReply> =>
    exchangeJson(`http://127.0.0.1:${port}${path}`, {
      method,
      body,
      limit: 4 * 1024 * 1024,
      timeoutMs: 15_000,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  const auth = (method: 'GET' | 'POST', path: string, body?: unknown, token = admin) =>
    call(authority!.port, method, path, body, token);
  const expect = async (reply: Promise<JsonReply>, status: number, code?: string) => {
    const r = await reply;
    assert.equal(r.status, status, JSON.stringify(r.body));
    if (code) assert.equal((r.body as { code: string }).code, code);
    return r.body as any;
  };

  before(async () => {
    assert.ok(trace, 'the harness turns the trace on');
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 21, 9));
    world = await makeAuthority(tmp.path, clock.env());
    const made = await volact(
      ['authority', 'token', 'create', '--dir', world.dir, '--name', 'answers', '--scope', 'admin', '--json'],
      clock.env(),
    );
    assert.equal(made.code, 0, made.stderr);
    admin = made.json.token;
    authority = await world.serve(clock.env(), ['--rate-per-key', '3', '--rate-per-address', '1000']);
    host = await startHost(hostDir(), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('the public authority API: documents, activations, the offline line, increase requests and their errors', async () => {
    for (const path of ['/v1/health', '/v1/ready', '/v1/root', '/v1/catalog', '/v1/offline-bundle', '/v1/openapi.json'])
      await expect(auth('GET', path, undefined, ''), 200);
    const key = 'XXXXX-XXXXX-XXXXX-XXXXX-XXXXX';
    const slot = { v: 1, hostKey: key, hostPublicKey: hash().slice(0, 43), hostName: 'h', requestId: hash() };
    await expect(auth('POST', '/v1/host-activations', slot, ''), 400, 'KEY_TYPO');
    await expect(auth('POST', '/v1/hypervisor-activations', { v: 1 }, ''), 400, 'BAD_REQUEST');
    await expect(auth('POST', '/v1/directory-activations', { v: 1 }, ''), 400, 'BAD_REQUEST');
    const mak = {
      v: 1,
      makKey: world.setupKeys['desk-pro'],
      machineId: 'm1',
      parts: { osId: hash(), cpu: hash(), board: hash(), disks: [], nics: [] },
      nonce: hash(),
    };
    await expect(auth('POST', '/v1/mak-activations', mak, ''), 400, 'KEY_WRONG_CLASS');
    await expect(auth('POST', '/v1/offline-confirmations', { v: 1, installationId: 'nonsense' }, ''), 400);
    // 415 (no JSON body at all) and 413 (over the 16 KiB a request may have)
    await expect(auth('POST', '/v1/increase-requests', undefined, ''), 415, 'UNSUPPORTED_MEDIA_TYPE');
    const big = { v: 1, key, what: 'hosts', amount: 1, reason: 'x'.repeat(20_000) };
    await expect(auth('POST', '/v1/increase-requests', big, ''), 413, 'BODY_TOO_LARGE');
    // 429 once a key has had its 3 requests this minute (Retry-After checked by the trace)
    const unknown = { v: 1, key: world.setupKeys['desk-enterprise'], id: 'IR-none' };
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) statuses.push((await auth('POST', '/v1/increase-requests/status', unknown, '')).status);
    assert.deepEqual(statuses, [400, 400, 400, 429]);
  });

  it('the admin API: tokens, keys, MAKs, increase requests, proxy activation, audit, and 401/403/404/409', async () => {
    await expect(auth('GET', '/v1/admin/tokens', undefined, ''), 401, 'TOKEN_MISSING');
    await expect(auth('GET', '/v1/admin/tokens', undefined, 'vat_nonsense'), 401, 'TOKEN_INVALID');
    const read = await expect(auth('POST', '/v1/admin/tokens', { v: 1, name: 'reader', scopes: ['read'] }), 201);
    await expect(auth('POST', '/v1/admin/maks', { v: 1, edition: 'desk-pro', activations: 5 }, read.token), 403);
    await expect(auth('GET', '/v1/admin/tokens'), 200);
    await expect(auth('POST', '/v1/admin/tokens/revoke', { v: 1, id: read.id }), 200);
    await expect(auth('POST', '/v1/admin/tokens/revoke', { v: 1, id: read.id }), 404, 'REQUEST_UNKNOWN');

    await expect(auth('POST', '/v1/admin/host-keys', { v: 1, group: 'server-2026' }), 201);
    await expect(auth('POST', '/v1/admin/host-keys', { v: 1, group: 'nope' }), 404, 'GROUP_UNKNOWN');
    await expect(auth('POST', '/v1/admin/datacenter-keys', { v: 1, group: 'server-2026' }), 201);
    await expect(auth('POST', '/v1/admin/datacenter-keys', { v: 1, group: 'desk-2026' }), 400);
    await expect(auth('GET', '/v1/admin/host-keys'), 200);
    const issued = await expect(auth('POST', '/v1/admin/maks', { v: 1, edition: 'desk-pro', activations: 5 }), 201);
    await expect(auth('GET', '/v1/admin/maks'), 200);

    const ask = { v: 1, key: issued.key, what: 'activations', amount: 3, reason: 'more desks' };
    const filed = await expect(auth('POST', '/v1/increase-requests', ask, ''), 201);
    await expect(auth('POST', '/v1/increase-requests/status', { v: 1, key: issued.key, id: filed.id }, ''), 200);
    for (const q of ['', '?state=pending']) await expect(auth('GET', `/v1/admin/requests${q}`), 200);
    await expect(auth('GET', '/v1/admin/requests?state=bogus'), 400, 'BAD_REQUEST');
    const decide = { v: 1, id: filed.id, decision: 'approve' };
    await expect(auth('POST', '/v1/admin/requests/decide', decide), 200);
    await expect(auth('POST', '/v1/admin/requests/decide', decide), 409, 'REQUEST_DECIDED');
    await expect(auth('POST', '/v1/admin/release-host', { v: 1, hostKeyId: 'HK', hostId: 'H' }), 404);
    const bulk = await expect(auth('POST', '/v1/admin/offline-confirmations', { v: 1, installationIds: ['x'] }), 200);
    assert.equal(bulk.results[0].ok, false);
    for (const q of ['', '?limit=5']) await expect(auth('GET', `/v1/admin/audit${q}`), 200);
    await expect(auth('GET', '/v1/admin/audit?limit=0'), 400, 'VALUE_OUT_OF_RANGE');
    // usage reports: the list, and a report whose signature is not a JWS (a real one: usage-report.e2e)
    for (const q of ['', '?limit=5']) await expect(auth('GET', `/v1/admin/usage-reports${q}`), 200);
    await expect(auth('GET', '/v1/admin/usage-reports?limit=0'), 400, 'VALUE_OUT_OF_RANGE');
    const forged = {
      v: 1,
      kind: 'volact.usage-report-file',
      report: 'x.y.z',
      certificates: [{ certificate: 'a.b.c', issuer: 'd.e.f' }],
    };
    await expect(auth('POST', '/v1/admin/usage-reports', forged), 400);
  });

  it("the console's session, and the catalog and hosts-per-key reads, with the cookie", async () => {
    const port = authority!.port;
    await expect(auth('POST', '/v1/console/session', { token: 'vat_nonsense' }, ''), 401, 'TOKEN_INVALID');
    await expect(auth('POST', '/v1/console/session', { token: admin }, ''), 201);
    await expect(auth('GET', '/v1/console/session', undefined, ''), 401, 'TOKEN_MISSING');
    // the cookie of another login (the JSON client shows no answer headers)
    const login = await fetch(`http://127.0.0.1:${port}/v1/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: admin }),
    });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const { csrf } = (await login.json()) as { csrf: string };
    const withCookie = (method: 'GET' | 'POST', path: string, body?: unknown, headers: Record<string, string> = {}) =>
      exchangeJson(`http://127.0.0.1:${port}${path}`, {
        method,
        body,
        limit: 4 * 1024 * 1024,
        timeoutMs: 15_000,
        headers: { cookie, ...headers },
      });
    await expect(withCookie('GET', '/v1/console/session'), 200);
    await expect(withCookie('GET', '/v1/admin/catalog'), 200);
    const keyId = (await expect(withCookie('GET', '/v1/admin/host-keys'), 200))[0].id;
    await expect(withCookie('GET', `/v1/admin/hosts?key=${keyId}`), 200);
    await expect(withCookie('GET', '/v1/admin/hosts'), 400, 'BAD_REQUEST');
    await expect(withCookie('GET', '/v1/admin/hosts?key=HK-none'), 404, 'REQUEST_UNKNOWN');
    const release = { v: 1, hostKeyId: keyId, hostId: 'H' };
    await expect(withCookie('POST', '/v1/admin/release-host', release), 403, 'CSRF_REFUSED');
    const foreign = { 'x-csrf-token': csrf, origin: 'https://elsewhere.example' };
    await expect(withCookie('POST', '/v1/admin/release-host', release, foreign), 403, 'CROSS_SITE_REFUSED');
    await expect(withCookie('POST', '/v1/console/session/end', {}, { 'x-csrf-token': csrf }), 200);
    await expect(withCookie('GET', '/v1/admin/catalog'), 401, 'SESSION_EXPIRED');
  });

  it("the host's client API: not activated, then granted, not yet, and refused", async () => {
    const port = host!.port;
    const now = clock.t;
    await expect(call(port, 'GET', '/v1/health'), 200);
    await expect(call(port, 'GET', '/v1/openapi.json'), 200);
    await expect(call(port, 'GET', '/v1/ready'), 503, 'NOT_READY');
    const server = activationBody(world.setupKeys['server-standard']!, now);
    await expect(call(port, 'POST', '/v1/activate', server), 503, 'HOST_NOT_ACTIVATED');
    await expect(call(port, 'POST', '/v1/activate', { v: 1 }), 400, 'BAD_REQUEST');
    await expect(call(port, 'POST', '/v1/activate', undefined), 415);

    const key = await world.issueHostKey('server-2026');
    for (const args of [['-ipk', key], ['-ato']]) {
      const r = await volact(['slmgr', '--host', hostDir(), ...args], clock.env());
      assert.equal(r.code, 0, r.stderr + r.stdout);
    }
    await expect(call(port, 'GET', '/v1/ready'), 200);
    await expect(call(port, 'POST', '/v1/activate', activationBody(world.setupKeys['desk-pro']!, now)), 200);
    for (let i = 0; i < 5; i++)
      await expect(call(port, 'POST', '/v1/activate', activationBody(world.setupKeys['server-standard']!, now)), 200);
    const typo = activationBody('XXXXX-XXXXX-XXXXX-XXXXX-XXXXX', now);
    await expect(call(port, 'POST', '/v1/activate', typo), 400, 'KEY_TYPO');
    const skewed = activationBody(world.setupKeys['server-standard']!, now + 300 * 60_000);
    const refusal = await expect(call(port, 'POST', '/v1/activate', skewed), 403);
    assert.ok(refusal.answer, 'a signed refusal');
  });

  it('every recorded answer matches its schema, and every operation of the authority was reached', () => {
    const recorded = readTrace(trace);
    const reached = new Set(
      recorded.filter((x) => roleOf(x.origin) === 'authority').map((x) => `${x.method} ${x.path.split('?')[0]}`),
    );
    const paths = authorityApiDocument().paths as Record<string, Record<string, unknown>>;
    const described = Object.entries(paths).flatMap(([p, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${p}`),
    );
    assert.deepEqual(
      described.filter((op) => !reached.has(op)),
      [],
    );
    const statuses = new Set(recorded.map((x) => x.status));
    for (const s of [200, 201, 400, 401, 403, 404, 409, 413, 415, 429, 503]) assert.ok(statuses.has(s), `${s} seen`);
    assert.deepEqual(traceProblems(trace), []);
  });

  it('the check finds an answer that does not match, and a status that is not described', () => {
    const x = { method: 'GET', origin: '', path: '/v1/root', headers: {}, status: 200, body: { kid: 'k' } };
    assert.match(answerProblem('authority', x) ?? '', /publicKey/);
    assert.match(answerProblem('authority', { ...x, status: 418 }) ?? '', /not described/);
    const limited = { ...x, method: 'POST', path: '/v1/mak-activations', status: 429 };
    assert.match(answerProblem('authority', limited) ?? '', /Retry-After/);
  });
});
