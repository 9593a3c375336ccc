/**
 * The benchmark's processes: servers pinned to a core, the CLI, load tools; every one is tracked
 * so that an interrupt or a failure stops them all and the temporary directory is removed.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CLI = join(ROOT, 'packages/cli/dist/main.js');

export const children = new Set<ChildProcess>();
/** Processes stopped on purpose: their exit is not an error. */
export const quiet = new Set<ChildProcess>();
export const cleanups: (() => Promise<void> | void)[] = [];
let cleaned = false;
let cleaning: Promise<void> | undefined;
let interrupted = false;

/** Whether SIGINT or SIGTERM stopped the run. */
export const wasInterrupted = () => interrupted;

/** Stops every process this script started and removes the temporary directory (once). */
export function cleanup(): Promise<void> {
  cleaning ??= stopAll();
  return cleaning;
}

async function stopAll(): Promise<void> {
  cleaned = true;
  await Promise.all(
    [...children].map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          const force = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(force);
            done();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
  for (const c of cleanups.reverse()) {
    try {
      await c();
    } catch {
      /* best effort */
    }
  }
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    interrupted = true;
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup().then(() => process.exit(130));
  });
}

const haveTaskset = spawnSync('taskset', ['--version'], { stdio: 'ignore' }).status === 0;
export const cores = availableParallelism();
export const pinning = haveTaskset && cores >= 2;

/** Command line for a process pinned to one core (when taskset and two cores are there). */
export function pinned(core: number, cmd: string, args: string[]): [string, string[]] {
  return pinning ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args];
}

/** Environment for the servers under test: production, never the test harness's fake clock. */
export function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.VOLACT_TEST_CLOCK;
  return env;
}

/**
 * Spawns a long-running server and waits for its port: a volact server's `{"msg":"listening","port":N}`
 * log line on stderr, or the ceiling's "listening on port N" on stdout. With `logFile`, the
 * server's stderr (its log) goes to that file, as an operator's journal or file would take it.
 */
export function startServer(
  name: string,
  cmd: string,
  args: string[],
  logFile?: string,
): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  return new Promise((resolvePort, reject) => {
    const logFd = logFile === undefined ? undefined : openSync(logFile, 'a');
    const child = spawn(cmd, args, { cwd: ROOT, env: serverEnv(), stdio: ['ignore', 'pipe', logFd ?? 'pipe'] });
    if (logFd !== undefined) closeSync(logFd);
    children.add(child);
    let out = '';
    let poll: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => reject(new Error(`${name} did not start within 20 s:\n${out}`)), 20_000);
    const output = () => (logFile === undefined ? out : out + readFileSync(logFile, 'utf8').slice(-50_000));
    const check = () => {
      const m = /listening on port (\d+)/.exec(out) ?? /\{[^\n]*"port":(\d+)[^\n]*"msg":"listening"/.exec(output());
      if (!m) return;
      clearTimeout(timer);
      clearInterval(poll);
      child.stdout!.off('data', onData);
      child.stdout!.resume();
      resolvePort({ child, port: Number(m[1]), output });
    };
    const onData = (c: Buffer) => {
      out += c.toString();
      check();
    };
    child.stdout!.on('data', onData);
    if (logFile !== undefined) poll = setInterval(check, 20);
    else
      child.stderr!.on('data', (c: Buffer) => {
        out += c.toString();
        if (out.length > 100_000) out = out.slice(-50_000);
        check();
      });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      clearInterval(poll);
      children.delete(child);
      if (!cleaned && !quiet.has(child))
        process.stderr.write(`${name} exited (${code ?? signal})\n${output().slice(-4000)}\n`);
      reject(new Error(`${name} exited with ${code ?? signal}:\n${output()}`));
    });
  });
}

/** Runs a volact command; asynchronous, because the authority it may talk to runs in this process. */
export function cli(args: string[]): Promise<string> {
  return new Promise((done, fail) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { cwd: ROOT, env: serverEnv(), encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) fail(new Error(`volact ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
        else done(stdout);
      },
    );
  });
}

/** Runs a load generator to its end (tracked, so an interrupt kills it too). */
export function runTool(
  cmd: string,
  args: string[],
  seconds: number,
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 30) * 1000);
    child.once('error', (err) => {
      stderr += String(err);
    });
    child.once('close', (status) => {
      clearTimeout(timer);
      children.delete(child);
      done({ status, stdout, stderr });
    });
  });
}
