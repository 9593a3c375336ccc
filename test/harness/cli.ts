import { spawn } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { track } from './children.js';
import { englishLocale } from './locale.js';

/** The built CLI, run as a separate process exactly as an operator would. */
export const CLI = new URL('../../../packages/cli/dist/main.js', import.meta.url).pathname;

export type CliResult = { code: number; stdout: string; stderr: string; json: any };

export function tempDir(prefix = 'volact-'): { path: string; cleanup: () => void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, cleanup: () => rmSync(path, { recursive: true, force: true }) };
}

/** The command line that runs `volact ARGS`, inside a network namespace when one is named. */
export function volactCommand(args: string[], netns?: string): [string, string[]] {
  return netns ? ['ip', ['netns', 'exec', netns, process.execPath, CLI, ...args]] : [process.execPath, [CLI, ...args]];
}

/** Runs `volact ARGS` (in network namespace `netns` when given); parses stdout as JSON when it is JSON. */
export function volact(
  args: string[],
  env: Record<string, string | undefined> = {},
  netns?: string,
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = volactCommand(args, netns);
    const child = track(
      spawn(cmd, argv, {
        env: { ...process.env, ...englishLocale, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
  });
}

/** A clock file that the processes started with VOLACT_TEST_CLOCK read on every call. */
export class TestClockFile {
  constructor(
    readonly path: string,
    public t: number,
  ) {
    this.write();
  }
  private write(): void {
    // write and rename: a process reading the clock mid-write would see an empty file and stop
    // (the cause of a rare failure of the 24-agent test under load)
    writeFileSync(`${this.path}.tmp`, String(this.t));
    renameSync(`${this.path}.tmp`, this.path);
  }
  set(t: number): void {
    this.t = t;
    this.write();
  }
  advance(ms: number): void {
    this.set(this.t + ms);
  }
  env(): Record<string, string> {
    return { VOLACT_TEST_CLOCK: this.path };
  }
}
