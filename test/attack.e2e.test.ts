import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';

/**
 * The short forms of the attack suites (attack/, run in full by `npm run attack:*`): each script
 * is run as a separate process, as an operator would, and judged by its exit code and the JSON
 * line of figures it prints last. One `describe` per attack.
 */

const ROOT = new URL('../../', import.meta.url).pathname;

type AttackRun = {
  code: number | null;
  output: string;
  figures: any;
  checks: { name: string; ok: boolean; detail: string }[];
};

/** Runs attack/dist/SCRIPT with ARGS to its end; SIGTERM (its own cleanup) then SIGKILL on timeout. */
function runAttack(script: string, args: string[], timeoutMs: number): Promise<AttackRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`attack/dist/${script}`, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString()));
    child.stderr.on('data', (c: Buffer) => (output += c.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = output.trim().split('\n').pop() ?? '';
      let parsed: { figures?: unknown; checks?: AttackRun['checks'] } = {};
      try {
        parsed = JSON.parse(line);
      } catch {
        /* no report: the assertions below show the output */
      }
      resolve({ code, output, figures: parsed.figures ?? {}, checks: parsed.checks ?? [] });
    });
  });
}

/** The failures and failed checks of a run, for an assertion message. */
const why = (r: AttackRun) =>
  [
    ...r.output
      .split('\n')
      .filter((l) => /FAILURE|^ {4}\S|^\s+FAIL /.test(l))
      .slice(0, 40),
    ...(r.figures.cases === undefined ? [r.output.slice(-3000)] : []),
  ].join('\n');

describe('attack:fuzz, short run', { timeout: 240_000 }, () => {
  it('answers 3,000 malformed requests without a 5xx, crash, hang, logged internal error or unexplained row change, then serves ordinary requests', async () => {
    const r = await runAttack('fuzz.js', ['--cases', '3000', '--seed', '20261103'], 200_000);
    const f = r.figures;
    assert.ok(f.cases >= 3000, `ran ${f.cases} cases\n${why(r)}`);
    assert.equal(f.crashes, 0, why(r));
    assert.equal(f.fiveXx, 0, why(r));
    assert.equal(f.hangs + f.noAnswer, 0, why(r));
    assert.ok(
      f.accepted > 100,
      `only ${f.accepted} requests were accepted: the valid paths were not reached\n${why(r)}`,
    );
    assert.ok(f.rowChecks > 0 && f.unexplainedRowChanges === 0, why(r));
    assert.equal(f.normalRequestAnswered, true, why(r));
    for (const [server, m] of Object.entries(f.memory as Record<string, { warmMb: number; afterMb: number }>)) {
      assert.ok(
        m.afterMb <= m.warmMb + f.memoryBoundMb,
        `${server}: ${m.warmMb} MB after warm-up, ${m.afterMb} MB after the run`,
      );
    }
    assert.equal(f.loggedErrors, 0, why(r));
    assert.equal(r.code, 0, why(r));
  });
});

/** Every check of a run passed, each named with its detail, and the script exited 0. */
function assertPassed(r: AttackRun): void {
  assert.ok(r.checks.length > 0, `no report:\n${r.output.slice(-3000)}`);
  for (const c of r.checks) assert.ok(c.ok, `${c.name}: ${c.detail}`);
  assert.equal(r.code, 0, r.output.slice(-3000));
}

describe('attack:idle, short run', { timeout: 180_000 }, () => {
  it('5,000 idle and half-sent connections on the host and the authority: a normal client is answered throughout, the flood is closed on time, descriptors come back', async () => {
    const r = await runAttack('idle.js', ['--connections', '5000'], 170_000);
    assertPassed(r);
    for (const target of ['host', 'authority']) {
      const f = r.figures[target];
      assert.equal(f.floodConnections, 5000, target);
      assert.equal(f.closedByServer, 5000, target);
      assert.ok(
        f.closedAfterMs.min >= 9_000,
        `${target}: nothing closed before the 10 s deadline (${f.closedAfterMs.min} ms)`,
      );
      assert.ok(f.normalRequests > 0 && f.normal200 === f.normalRequests, target);
    }
  });
});

describe('attack:kill, short run', { timeout: 120_000 }, () => {
  it('two rounds of kill -9 under load: every acknowledged activation is stored once, the database is intact, the count agrees', async () => {
    // two rounds: the second renews machines of the first, which the restarted host must find
    const r = await runAttack('kill.js', ['--rounds', '2', '--min-ms', '800', '--max-ms', '1500'], 110_000);
    assertPassed(r);
    assert.ok(r.figures.acknowledged > 100, `only ${r.figures.acknowledged} acknowledged`);
    assert.equal(r.figures.lost, 0);
  });
});
