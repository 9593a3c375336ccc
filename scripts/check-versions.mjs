// Versions move in lockstep: every workspace package has the root package.json's version, and
// every @volact/* dependency names exactly that version, so a set of tarballs installs only with
// itself. Exits 1 naming each difference. `node scripts/check-versions.mjs [ROOT]` (ROOT: the
// repository, by default this one); npm run pack runs it first.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(process.argv[2] ?? join(fileURLToPath(import.meta.url), '../..'));
const read = (dir) => JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
const top = read('.');
const problems = [];
for (const dir of top.workspaces) {
  const pkg = read(dir);
  if (pkg.version !== top.version) problems.push(`${pkg.name} is ${pkg.version}, the root is ${top.version}`);
  for (const field of ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies']) {
    for (const [name, spec] of Object.entries(pkg[field] ?? {})) {
      if (name.startsWith('@volact/') && spec !== top.version)
        problems.push(`${pkg.name} ${field} ${name}@${spec}, the root is ${top.version}`);
    }
  }
}
if (problems.length > 0) {
  console.error(
    `versions differ (all packages move together: set each to the same version):\n  ${problems.join('\n  ')}`,
  );
  process.exit(1);
}
console.log(`versions: ${top.workspaces.length} packages at ${top.version}`);
