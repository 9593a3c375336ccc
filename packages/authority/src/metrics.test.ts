import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock, generateKeyPair, rawPublicKey, type HostActivationRequest } from '@volact/protocol';
import { Authority } from './authority.js';
import { sampleCatalogPath } from './catalog.js';
import { openAuthorityDb } from './db/open.js';
import { initKeys, loadKeys } from './keys.js';
import { KyselyAuthorityStore } from './kysely-store.js';
import { AuthorityMetrics } from './metrics.js';
import { RateLimiter } from './rate-limiter.js';
import { startPostgres, type Postgres } from './testing/postgres.js';

/** The scrape's text lines for one metric name (exact name, any labels). */
async function lines(metrics: AuthorityMetrics, name: string): Promise<string[]> {
  const text = (await metrics.render()).body;
  return text.split('\n').filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `));
}

const hostRequest = (hostKey: string, requestId = randomBytes(16).toString('base64url')): HostActivationRequest => ({
  v: 1,
  hostKey,
  hostPublicKey: rawPublicKey(generateKeyPair('host').publicKey),
  hostName: 'h1',
  requestId,
});

for (const backend of ['sqlite', 'postgres'] as const) {
  describe(`authority metrics on ${backend}`, { timeout: 120_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), `volact-auth-metrics-${backend}-`));
    const clock = new ManualClock(Date.UTC(2026, 2, 1));
    let pg: Postgres | undefined;
    after(() => {
      pg?.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('counts activations by outcome and channel, rate-limit refusals, store errors, and shows the database', async () => {
      initKeys(join(dir, 'a'), clock.now());
      if (backend === 'postgres') pg = await startPostgres();
      const store = new KyselyAuthorityStore(await openAuthorityDb(pg ? pg.url : join(dir, 'a', 'authority.db')));
      const metrics = new AuthorityMetrics();
      const watched = metrics.watchStore(store);
      const authority = new Authority(loadKeys(join(dir, 'a')), watched, clock);
      metrics.watch({ dialect: store.dialect, pool: store.pool, ready: () => authority.ready() });
      assert.deepEqual(await lines(metrics, 'volact_authority_ready'), ['volact_authority_ready 0']);
      await authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'test');
      assert.deepEqual(await lines(metrics, 'volact_authority_ready'), ['volact_authority_ready 1']);

      const key = (await authority.issueHostKey('server-2026', { maxHosts: 1 }, 'test')).key;
      const first = hostRequest(key);
      await authority.activateHost(first);
      await authority.activateHost(first); // a retry after a lost answer
      await assert.rejects(authority.activateHost(hostRequest(key)), { code: 'KEY_LIMIT_HOSTS' });
      assert.deepEqual((await lines(metrics, 'volact_authority_activations_total')).sort(), [
        'volact_authority_activations_total{key="host",channel="online",outcome="activated"} 1',
        'volact_authority_activations_total{key="host",channel="online",outcome="hostLimit"} 1',
        'volact_authority_activations_total{key="host",channel="online",outcome="retried"} 1',
      ]);

      const limiter = new RateLimiter(watched, clock, { perAddress: 1, perKey: 0 }, metrics.rateLimited);
      await limiter.check('192.0.2.1', key);
      await assert.rejects(limiter.check('192.0.2.1', key), { code: 'RATE_LIMITED' });
      assert.deepEqual(await lines(metrics, 'volact_authority_rate_limited_total'), [
        'volact_authority_rate_limited_total{limit="address"} 1',
        'volact_authority_rate_limited_total{limit="key"} 0',
      ]);

      assert.deepEqual(await lines(metrics, 'volact_authority_database_info'), [
        `volact_authority_database_info{dialect="${backend}"} 1`,
      ]);
      const pool = await lines(metrics, 'volact_authority_db_pool_connections');
      if (backend === 'sqlite') assert.deepEqual(pool, []);
      else assert.match(pool.join('\n'), /\{state="open"\} [1-9]\d*\n.*\{state="idle"\} \d+/);
      assert.deepEqual(await lines(metrics, 'volact_authority_db_errors_total'), []);

      // a database that no longer answers: each failing call counts under its operation
      await store.close();
      await assert.rejects(authority.listHostKeys());
      await assert.rejects(authority.listHostKeys());
      assert.deepEqual(await lines(metrics, 'volact_authority_db_errors_total'), [
        'volact_authority_db_errors_total{operation="listHostKeys"} 2',
      ]);
      assert.deepEqual(await lines(metrics, 'volact_authority_ready'), ['volact_authority_ready 0']);
    });
  });
}
