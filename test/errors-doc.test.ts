import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { it } from 'node:test';

const script = fileURLToPath(new URL('../../scripts/errors-doc.mjs', import.meta.url));

it('docs/errors.md lists every code of the one error table, as it is (npm run docs:errors writes it)', () => {
  const r = spawnSync(process.execPath, [script, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});
