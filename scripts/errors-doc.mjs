#!/usr/bin/env node
// Writes the tables of docs/errors.md from the one error table (packages/protocol/src/errors.ts):
// one table per group, in the order of the source. Everything above the first table is prose
// kept as it is. `--check` exits 1 when the file differs from what would be written (npm test runs it).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { errorTable, exitCodes } = await import(join(root, 'packages/protocol/dist/errors.js'));
const source = readFileSync(join(root, 'packages/protocol/src/errors.ts'), 'utf8');
const docPath = join(root, 'docs/errors.md');
const doc = readFileSync(docPath, 'utf8');

const groups = [];
for (const line of source.slice(source.indexOf('export const errorTable')).split('\n')) {
  const heading = /^\s*\/\/ --- (.+?) -+$/.exec(line);
  if (heading) groups.push({ title: heading[1][0].toUpperCase() + heading[1].slice(1), codes: [] });
  const entry = /^\s*([A-Z_]+): \{/.exec(line);
  if (entry && groups.length) groups.at(-1).codes.push(entry[1]);
}
const exitName = Object.fromEntries(Object.entries(exitCodes).map(([name, n]) => [n, name]));
const cell = (text) => String(text).replace(/\|/g, '\\|');
const tables = groups
  .map((g) =>
    [
      `## ${g.title}`,
      '',
      '| code | HTTP | exit | message | fix |',
      '|---|---|---|---|---|',
      ...g.codes.map((code) => {
        const e = errorTable[code];
        return `| \`${code}\` | ${e.status} | ${e.exit} (${exitName[e.exit]}) | ${cell(e.message)} | ${cell(e.fix)} |`;
      }),
    ].join('\n'),
  )
  .join('\n\n');
const listed = new Set(groups.flatMap((g) => g.codes));
const missing = Object.keys(errorTable).filter((c) => !listed.has(c));
if (missing.length) {
  console.error(`errors-doc: codes outside any group in errors.ts: ${missing.join(', ')}`);
  process.exit(1);
}
const first = doc.indexOf(`\n## ${groups[0].title}\n`);
if (first < 0) {
  console.error(`errors-doc: docs/errors.md has no "## ${groups[0].title}" heading to start the tables at`);
  process.exit(1);
}
const next = doc.slice(0, first + 1) + tables + '\n';
if (process.argv.includes('--check')) {
  if (next !== doc) {
    console.error('docs/errors.md does not match packages/protocol/src/errors.ts: run npm run docs:errors');
    process.exit(1);
  }
} else if (next !== doc) {
  writeFileSync(docPath, next);
  console.log('docs/errors.md written');
}
