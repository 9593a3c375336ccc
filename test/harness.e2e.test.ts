import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir, volact } from './harness/cli.js';

const FIXTURE = new URL('./fixtures/left-running.test.js', import.meta.url).pathname;

/** Runs a test file in its own runner and process group; resolves with its output, or with timedOut after `ms`. */
function runTestFile(
  file: string,
  env: Record<string, string>,
  ms: number,
): Promise<{ code: number | null; out: string; timedOut: boolean }> {
  return new Promise((resolve) => {
    // a runner of its own: without NODE_TEST_CONTEXT, which would make it report to ours
    const { NODE_TEST_CONTEXT: _ours, ...outer } = process.env;
    const child = spawn(process.execPath, ['--test', '--test-reporter=tap', file], {
      env: { ...outer, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const timer = setTimeout(() => {
      process.kill(-child.pid!, 'SIGKILL'); // the runner, the test file and what it started
      resolve({ code: null, out, timedOut: true });
    }, ms);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, timedOut: false });
    });
  });
}

describe('the test harness', { timeout: 120_000 }, () => {
  const tmp = tempDir('volact-harness-');
  after(() => tmp.cleanup());

  it('kills what a failed test left running, so its file ends and names the failure instead of hanging', async () => {
    const dir = join(tmp.path, 'authority');
    assert.equal((await volact(['authority', 'init', '--dir', dir])).code, 0);
    const run = await runTestFile(FIXTURE, { VOLACT_FIXTURE_DIR: dir }, 60_000);
    assert.equal(run.timedOut, false, `the test file never ended:\n${run.out}`);
    assert.equal(run.code, 1);
    assert.match(run.out, /not ok 1 - fails with a service still running/);
    assert.match(run.out, /harness: killing 1 process\(es\) the tests left running: .*authority serve/);
    const pid = Number(readFileSync(join(dir, 'service.pid'), 'utf8'));
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' }, 'the service is gone');
  });
});
