import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { lintFromString, loadConfig } from '@redocly/openapi-core';
import { tempDir } from './harness/cli.js';
import { type Service } from './harness/processes.js';
import { makeAuthority, startHost } from './harness/world.js';

const ROOT = new URL('../../', import.meta.url).pathname;
/** The rules; the waivers are in .redocly.lint-ignore.yaml beside it, by the names given below. */
const CONFIG = join(ROOT, 'redocly.yaml');

/** GETs a JSON document from a local port. */
async function getDocument(port: number, path: string): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`);
  assert.equal(res.status, 200, path);
  return res.text();
}

describe('the OpenAPI descriptions', () => {
  const tmp = tempDir('volact-openapi-');
  let authority: Service | undefined;
  let host: Service | undefined;
  const documents: Record<string, string> = {};
  let ignored = 0;

  before(async () => {
    const world = await makeAuthority(tmp.path);
    authority = await world.serve();
    host = await startHost(join(tmp.path, 'host'), {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
    });
    documents.authority = await getDocument(authority.port, '/v1/openapi.json');
    documents.host = await getDocument(host.port, '/v1/openapi.json');
    // the host console's API (issue 15): the same generator, served on the console listener
    documents['host-console'] = JSON.stringify((await import('@volact/host')).consoleApiDocument);
  });

  after(async () => {
    await host?.stop();
    await authority?.stop();
    tmp.cleanup();
  });

  it('describes every status with a schema, the codes possible, Retry-After, tokens and query parameters', () => {
    type Op = { security: unknown[]; parameters?: { name: string }[]; responses: Record<string, any> };
    const doc = JSON.parse(documents.authority!) as { paths: Record<string, Record<string, Op>>; servers: unknown[] };
    assert.ok(doc.servers.length > 0);
    const ops = Object.entries(doc.paths).flatMap(([path, byMethod]) =>
      Object.entries(byMethod).map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, op })),
    );
    for (const { key, op } of ops)
      for (const [status, response] of Object.entries(op.responses))
        assert.ok(response.content?.['application/json']?.schema, `${key} ${status} has a schema`);
    const op = (key: string) => ops.find((o) => o.key === key)!.op;
    assert.deepEqual(op('GET /v1/catalog').security, []);
    assert.deepEqual(op('GET /v1/admin/maks').security, [{ bearer: ['read'] }]);
    const activate = op('POST /v1/mak-activations').responses;
    assert.ok(activate['429'].headers['Retry-After']);
    for (const status of ['400', '413', '415', '429', '500']) assert.ok(activate[status], status);
    assert.deepEqual(activate['409'].content['application/json'].schema.allOf[1].properties.code.enum, ['MAK_LIMIT']);
    const tokens = op('POST /v1/admin/tokens').responses;
    assert.ok(tokens['401'] && tokens['403']);
    assert.deepEqual(
      op('GET /v1/admin/audit').parameters?.map((p) => p.name),
      ['limit'],
    );
    assert.deepEqual(
      op('GET /v1/admin/requests').parameters?.map((p) => p.name),
      ['state'],
    );
  });

  for (const role of ['authority', 'host', 'host-console']) {
    it(`the ${role}'s lints clean with the recommended rules, but for waivers with reasons`, async () => {
      const config = await loadConfig({ configPath: CONFIG });
      const problems = await lintFromString({
        source: documents[role]!,
        absoluteRef: join(ROOT, `${role}.openapi.json`),
        config,
      });
      ignored += problems.filter((p) => p.ignored).length;
      const shown = problems
        .filter((p) => !p.ignored)
        .map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
      assert.deepEqual(shown, []);
    });
  }

  it('every waiver is still needed (a stale one would hide a new finding at that place)', () => {
    const waivers = readFileSync(join(ROOT, '.redocly.lint-ignore.yaml'), 'utf8').match(/^\s+- '#/gm) ?? [];
    assert.equal(ignored, waivers.length);
  });
});
