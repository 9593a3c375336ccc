import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from './harness/cli.js';

const repo = new URL('../..', import.meta.url).pathname;
const { version } = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
const check = (root: string) =>
  spawnSync(process.execPath, [join(repo, 'scripts', 'check-versions.mjs'), root], { encoding: 'utf8' });

describe('versions in lockstep (scripts/check-versions.mjs)', () => {
  const tmp = tempDir('volact-versions-');
  after(() => tmp.cleanup());

  /** A copy of the repository's package.json files, with `edit` applied to one package's. */
  function copy(pkg: string, edit: (p: Record<string, any>) => void): string {
    const root = join(tmp.path, pkg);
    const workspaces = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { workspaces: string[] })
      .workspaces;
    cpSync(join(repo, 'package.json'), join(root, 'package.json'));
    for (const w of workspaces) {
      mkdirSync(join(root, w), { recursive: true });
      const p = JSON.parse(readFileSync(join(repo, w, 'package.json'), 'utf8'));
      if (w === `packages/${pkg}`) edit(p);
      writeFileSync(join(root, w, 'package.json'), JSON.stringify(p));
    }
    return root;
  }

  it("passes on the repository: every package has the root's version", () => {
    const r = check(repo);
    assert.equal(r.status, 0, r.stderr);
  });

  it('fails naming a package whose version differs', () => {
    const r = check(copy('host', (p) => (p.version = `${version}-next`)));
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`@volact/host is ${version}-next, the root is ${version}`), r.stderr);
  });

  it('fails naming a dependency on another version of a @volact package', () => {
    const r = check(copy('cli', (p) => (p.dependencies['@volact/client'] = `^${version}`)));
    assert.equal(r.status, 1);
    assert.ok(r.stderr.includes(`@volact/cli dependencies @volact/client@^${version}`), r.stderr);
  });
});
