import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineWriter } from './line-writer.js';

test('lines written while a write is in flight go out together, in order, all of them by drain()', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-lines-'));
  try {
    const file = join(dir, 'sub', 'host.log');
    const w = new LineWriter(file);
    for (let i = 0; i < 10_000; i++) w.write(`{"n":${i}}\n`);
    assert.equal(w.idle, false);
    await w.drain();
    assert.equal(w.idle, true);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(lines.length, 10_000);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { n: number }).n),
      [...Array(10_000).keys()],
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('what is held back is written when the process exits at once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-lines-'));
  try {
    const file = join(dir, 'exit.log');
    const script = `import { LineWriter } from ${JSON.stringify(new URL('./line-writer.js', import.meta.url).href)};
      const w = new LineWriter(${JSON.stringify(file)});
      for (let i = 0; i < 500; i++) w.write('{"n":' + i + '}\\n');
      process.exit(0);`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script]);
    assert.equal(readFileSync(file, 'utf8').trim().split('\n').length, 500);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
