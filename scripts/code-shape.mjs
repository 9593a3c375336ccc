#!/usr/bin/env node
// The shape bars of the source (part of `npm run lint`): no non-test source file over 450 lines,
// no function over 120 lines. Long files and functions are where code stops being read whole;
// the bars make a split happen when it is due instead of when someone finds the time.
// Prints the largest file and the longest functions; exits 1 when a bar is missed.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = new URL('..', import.meta.url).pathname;
const MAX_FILE = 450;
const MAX_FUNCTION = 120;
const DIRS = ['packages', 'bench', 'attack', 'scripts', 'test/harness'];

function* sources(dir) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* sources(path);
    else if (/\.(ts|mjs)$/.test(name) && !/\.test\.ts$|\.d\.ts$/.test(name)) yield path;
  }
}

const files = [];
const functions = [];
for (const dir of DIRS) {
  for (const path of sources(join(ROOT, dir))) {
    const text = readFileSync(path, 'utf8');
    const rel = relative(ROOT, path);
    const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    files.push({ rel, lines: sf.getLineStarts().length });
    const visit = (node) => {
      if (ts.isFunctionLike(node) && 'body' in node && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        const name = node.name ? node.name.getText(sf) : ts.isArrowFunction(node) ? '(arrow)' : '(function)';
        functions.push({ where: `${rel}:${start + 1}`, name, lines: end - start + 1 });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}

files.sort((a, b) => b.lines - a.lines);
functions.sort((a, b) => b.lines - a.lines);
const fileMisses = files.filter((f) => f.lines > MAX_FILE);
const functionMisses = functions.filter((f) => f.lines > MAX_FUNCTION);
console.log(`code shape: ${files.length} source files, ${functions.length} functions`);
console.log(`  largest files (bar ${MAX_FILE} lines):`);
for (const f of files.slice(0, 3)) console.log(`    ${String(f.lines).padStart(5)}  ${f.rel}`);
console.log(`  longest functions (bar ${MAX_FUNCTION} lines):`);
for (const f of functions.slice(0, 3)) console.log(`    ${String(f.lines).padStart(5)}  ${f.name} ${f.where}`);
for (const f of fileMisses) console.log(`  over the bar: ${f.rel} has ${f.lines} lines; split it by what its parts do`);
for (const f of functionMisses)
  console.log(`  over the bar: ${f.name} (${f.where}) has ${f.lines} lines; split it into steps`);
process.exit(fileMisses.length + functionMisses.length > 0 ? 1 : 0);
