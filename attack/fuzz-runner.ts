/**
 * Runs cases against the world, `concurrency` at a time, in blocks: before and after each block
 * the row counts of both databases are taken, and every change must be explained by the block's
 * accepted answers. A 5xx, a missing answer or a server exit is a failure at once.
 */
import { makeCase, type Case } from './fuzz-cases.js';
import type { Endpoint, Target } from './fuzz-endpoints.js';
import { caseFailure, printFailure, replayCommand, requestOf, type Failure } from './fuzz-failures.js';
import { unexplained, type RowCounter } from './fuzz-rows.js';
import { connection, sendHttp, sendRaw, type Conn, type Outcome } from './fuzz-send.js';
import type { World } from './fuzz-world.js';

export type RunOptions = {
  seed: number;
  first: number;
  concurrency: number;
  timeoutMs: number;
  block: number;
  endpoints: readonly Endpoint[];
  verbose: boolean;
};

export type Stats = {
  cases: number;
  http: number;
  raw: number;
  answers: number;
  accepted: number;
  statuses: Record<string, number>;
  fiveXx: number;
  hangs: number;
  leaks: number;
  noAnswer: number;
  closedWithoutAnswer: number;
  loggedErrors: number;
  rowChecks: number;
  unexplainedRows: number;
  crashes: number;
  failures: Failure[];
};

/** Failures printed per kind; the rest are counted. */
const MAX_PRINTED = 10;
const QUIET_MS = 20;
/** What an error answer must never show: a stack frame, a source path, a database error. */
const INTERNALS = /\bat [^\s]+ \(|node:internal|\/packages\/|\.[jt]s:\d+|SQLITE_|sqlite|better-sqlite3|kysely/i;

export class Runner {
  readonly stats: Stats = {
    cases: 0,
    http: 0,
    raw: 0,
    answers: 0,
    accepted: 0,
    statuses: {},
    fiveXx: 0,
    hangs: 0,
    leaks: 0,
    noAnswer: 0,
    closedWithoutAnswer: 0,
    loggedErrors: 0,
    rowChecks: 0,
    unexplainedRows: 0,
    crashes: 0,
    failures: [],
  };
  private readonly conns: Record<Target, Conn>;
  private readonly inFlight = new Set<number>();
  private readonly printed: Partial<Record<Failure['kind'], number>> = {};
  private stopped = false;
  private logOffsets: number[];

  constructor(
    private readonly world: World,
    private readonly rows: RowCounter,
    private readonly o: RunOptions,
  ) {
    this.conns = {
      host: connection({ port: world.hostPort }, o.concurrency),
      admin: connection({ socketPath: world.adminSocket }, o.concurrency),
      authority: connection({ port: world.authorityPort }, o.concurrency),
    };
    this.logOffsets = world.servers.map((s) => s.service.output().length);
    for (const s of world.servers) {
      s.service.child.once('exit', (code, signal) => {
        if (this.stopped) return;
        this.stats.crashes++;
        const cases = [...this.inFlight].sort((a, b) => a - b);
        this.fail({
          kind: 'crash',
          seed: o.seed,
          label: `${s.name} exited (${code ?? signal})`,
          detail: `cases in flight: ${cases.join(', ') || 'none'}; last output: ${s.service.output().slice(-1500)}`,
          replay: cases.map((n) => replayCommand(o.seed, n)).join(' ; '),
        });
        this.stopped = true;
      });
    }
  }

  get crashed(): boolean {
    return this.stats.crashes > 0;
  }

  /** Stops scheduling (Ctrl-C, or the end); a server exit after this is no crash. */
  stop(): void {
    this.stopped = true;
  }

  private fail(f: Failure): void {
    this.stats.failures.push(f);
    const printed = (this.printed[f.kind] ?? 0) + 1;
    this.printed[f.kind] = printed;
    if (printed <= MAX_PRINTED) printFailure(f);
    if (printed === MAX_PRINTED) console.log(`  (further failures of kind "${f.kind}" are counted, not printed)`);
  }

  /** Runs cases `from` to `to` - 1. */
  async run(from: number, to: number, onProgress: (done: number) => void): Promise<void> {
    for (let start = from; start < to && !this.stopped; start += this.o.block) {
      await this.block(start, Math.min(to, start + this.o.block));
      onProgress(Math.min(to, start + this.o.block) - this.o.first);
    }
  }

  private async block(from: number, to: number): Promise<void> {
    const before = this.rows.count();
    const allowance: Record<string, number> = {};
    const acceptedCases: number[] = [];
    let next = from;
    const worker = async () => {
      while (next < to && !this.stopped) {
        const n = next++;
        const c = makeCase(this.o.seed, n, this.world.fixtures, this.o.endpoints);
        this.inFlight.add(n);
        const o = await this.send(c);
        this.inFlight.delete(n);
        const accepted = await this.judge(c, o);
        if (accepted > 0) {
          acceptedCases.push(n);
          for (const [table, k] of Object.entries(c.endpoint.writes ?? {}))
            allowance[table] = (allowance[table] ?? 0) + k * accepted;
        }
      }
    };
    await Promise.all(Array.from({ length: this.o.concurrency }, worker));
    // a server notices a closed connection a moment after the client: its log lines come late
    await new Promise((r) => setTimeout(r, QUIET_MS));
    if (this.stopped && this.crashed) return;
    this.stats.rowChecks++;
    const moved = unexplained(before, this.rows.count(), allowance);
    if (moved.length > 0) {
      this.stats.unexplainedRows++;
      this.fail({
        kind: 'rows',
        seed: this.o.seed,
        label: `cases ${from}..${to - 1}: row counts changed beyond what accepted answers explain`,
        detail: `${moved.map((m) => `${m.table} ${m.before} -> ${m.after} (accepted answers allow ${m.allowed})`).join(', ')}; accepted cases: ${acceptedCases.sort((x, y) => x - y).join(', ') || 'none'}`,
        replay: `node attack/dist/fuzz.js --seed ${this.o.seed} --first ${from} --cases ${to - from} --block 1 --concurrency 1`,
      });
    }
    this.scanLogs(from, to);
  }

  private send(c: Case): Promise<Outcome> {
    const conn = this.conns[c.endpoint.target];
    if (c.via === 'http') {
      this.stats.http++;
      return sendHttp(conn, c.http, this.o.timeoutMs);
    }
    this.stats.raw++;
    return sendRaw(conn, c.raw, this.o.timeoutMs);
  }

  /** Counts the outcome, records failures; returns how many writes the answers allow (0: none accepted). */
  private async judge(c: Case, o: Outcome): Promise<number> {
    this.stats.cases++;
    let accepted = 0;
    for (const a of o.answers) {
      this.stats.answers++;
      this.stats.statuses[a.status] = (this.stats.statuses[a.status] ?? 0) + 1;
      if (a.status >= 500) {
        this.stats.fiveXx++;
        this.fail(caseFailure('5xx', this.o.seed, c, o, `answered ${a.status}`));
      }
      if (a.status >= 400 && INTERNALS.test(a.body)) {
        this.stats.leaks++;
        this.fail(
          caseFailure('leak', this.o.seed, c, o, `the error answer shows internals (${INTERNALS.exec(a.body)![0]})`),
        );
      }
      // a signed answer (a grant, or a signed refusal such as EDITION_NOT_COVERED) is an accepted request
      if ((a.status >= 200 && a.status < 300) || a.body.startsWith('{"answer"')) {
        this.stats.accepted++;
        accepted += c.endpoint.perResult ? resultsIn(a.body) : 1;
      }
    }
    if (this.stopped) return accepted;
    const expected = c.via === 'http' ? 1 : c.raw.expect;
    if (o.timedOut) {
      const alive = await this.alive(c.endpoint.target);
      if (alive) this.stats.hangs++;
      this.fail(
        caseFailure(
          alive ? 'hang' : 'unresponsive',
          this.o.seed,
          c,
          o,
          alive
            ? `no answer or close within ${this.o.timeoutMs} ms (expected ${expected} answers), while the server answers others`
            : 'the server stopped answering',
        ),
      );
    } else if (c.via === 'http' && o.answers.length === 0 && !overlongHead(c, o) && o.error !== 'ECONNREFUSED') {
      this.stats.noAnswer++;
      this.fail(caseFailure('no answer', this.o.seed, c, o, 'a well-formed request was closed without an answer'));
    } else if (o.answers.length < expected) this.stats.closedWithoutAnswer++;
    if (this.o.verbose)
      console.log(
        `  case ${c.n} ${c.label} -> ${o.answers.map((a) => a.status).join(',') || (o.closed ? 'closed' : '-')} ${o.ms.toFixed(0)} ms`,
      );
    return accepted;
  }

  /** Whether the target answers a plain health request (to tell a hang from a dead server). */
  private async alive(target: Target): Promise<boolean> {
    const o = await sendHttp(
      this.conns[target],
      {
        method: 'GET',
        path: target === 'admin' ? '/status' : '/v1/health',
        headers: {},
        body: undefined,
        chunked: false,
      },
      5000,
    );
    return o.answers[0]?.status === 200;
  }

  /** Internal errors the servers logged during the block (a 500 that no client may have seen). */
  private scanLogs(from: number, to: number): void {
    this.world.servers.forEach((s, i) => {
      const out = s.service.output();
      const fresh = out.slice(this.logOffsets[i]);
      this.logOffsets[i] = out.length;
      const lines = fresh.split('\n').filter((l) => l.includes('"level":"error"'));
      if (lines.length === 0) return;
      this.stats.loggedErrors += lines.length;
      this.fail({
        kind: 'logged error',
        seed: this.o.seed,
        label: `${s.name} logged ${lines.length} internal error(s) during cases ${from}..${to - 1}`,
        detail: lines[0]!.slice(0, 800),
        replay: `node attack/dist/fuzz.js --seed ${this.o.seed} --first ${from} --cases ${to - from} --block 1 --concurrency 1`,
      });
    });
  }
}

/**
 * Node answers a request head over its 16 KB limit with 431 and closes at once; a client still
 * writing its body then gets a reset that can discard that answer. Not a missing answer.
 */
function overlongHead(c: Case, o: Outcome): boolean {
  const bytes = requestOf(c);
  return (
    ['ECONNRESET', 'EPIPE'].includes(o.error ?? '') && bytes.subarray(0, bytes.indexOf('\r\n\r\n')).length > 16 * 1024
  );
}

/** Items of a bulk answer (`results`), each of which may have written. */
function resultsIn(body: string): number {
  try {
    return (JSON.parse(body) as { results?: unknown[] }).results?.length ?? 1;
  } catch {
    return 1000; // the stored excerpt was cut: the schema's most
  }
}
