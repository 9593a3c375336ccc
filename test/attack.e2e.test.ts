import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

type Checked = { attack: string; ok: boolean; figures: Record<string, any>; checks: { name: string; ok: boolean; detail: string }[] };

/** Runs an attack script to its end and returns its JSON line (the last line of its output). */
function runAttack(script: string, args: string[], timeoutMs: number): Promise<{ code: number | null; result: Checked; output: string }> {
  const path = fileURLToPath(new URL(`../../attack/dist/${script}`, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c) => (output += c));
    child.stderr.on('data', (c) => (output += c));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = output.trim().split('\n').filter((l) => l.startsWith('{"attack"')).pop();
      if (!line) return reject(new Error(`${script} printed no result:\n${output}`));
      resolve({ code, result: JSON.parse(line) as Checked, output });
    });
  });
}

/** Every check of the run, by name, with its detail in the failure message. */
function assertPassed(run: { code: number | null; result: Checked; output: string }): void {
  for (const c of run.result.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
  assert.equal(run.code, 0, run.output);
}

describe('attack: idle flood (npm run attack:idle)', { timeout: 180_000 }, () => {
  it('5,000 idle and half-sent connections on the host and the authority: a normal client is answered throughout, the flood is closed on time, descriptors come back', async () => {
    const run = await runAttack('idle.js', ['--connections', '5000'], 170_000);
    assertPassed(run);
    for (const target of ['host', 'authority']) {
      const f = run.result.figures[target];
      assert.equal(f.floodConnections, 5000, target);
      assert.equal(f.closedByServer, 5000, target);
      assert.ok(f.closedAfterMs.min >= 9_000, `${target}: nothing closed before the 10 s deadline (${f.closedAfterMs.min} ms)`);
      assert.ok(f.normalRequests > 0 && f.normal200 === f.normalRequests, target);
    }
  });
});

describe('attack: kill -9 under load (npm run attack:kill)', { timeout: 120_000 }, () => {
  it('one round: every acknowledged activation is stored, the database is intact, the count agrees', async () => {
    const run = await runAttack('kill.js', ['--rounds', '1'], 110_000);
    assertPassed(run);
    assert.ok(run.result.figures.acknowledged > 100, `only ${run.result.figures.acknowledged} acknowledged`);
    assert.equal(run.result.figures.lost, 0);
  });
});
