import { spawn, type ChildProcess } from 'node:child_process';
import { track } from './children.js';
import { volactCommand } from './cli.js';
import { noteService } from './exchanges.js';
import { englishLocale } from './locale.js';

export type Service = {
  child: ChildProcess;
  port: number;
  stop: () => Promise<void>;
  kill9: () => Promise<void>;
  /** stdout and stderr as they came */
  output: () => string;
  /** stderr alone: the server's log, JSON lines */
  logs: () => string;
};

/** The JSON lines of a text, parsed; a line that is not a JSON object is skipped. */
export function jsonLines(text: string): Record<string, unknown>[] {
  const lines: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line still being written, or not JSON
    }
  }
  return lines;
}

/** The port of a server's `{"msg":"listening","port":N,…}` log line, once it is there. */
export function listeningPort(text: string): number | undefined {
  const line = jsonLines(text).find((l) => l.msg === 'listening' && typeof l.port === 'number');
  return line?.port as number | undefined;
}

/**
 * Spawns a long-running volact command and waits for its `listening` log line (on stderr), or
 * with a RegExp, for that in stdout and stderr (its group 1, if any, is the port).
 */
export function startService(
  args: string[],
  env: Record<string, string | undefined> = {},
  ready: RegExp | ((text: string) => number | undefined) = listeningPort,
  netns?: string,
): Promise<Service> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = volactCommand(args, netns);
    const child = track(
      spawn(cmd, argv, {
        env: { ...process.env, ...englishLocale, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    let err = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start: volact ${args.join(' ')}\n${out}`));
    }, 15_000);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    let started = false;
    const portIn = (): number | undefined => {
      if (typeof ready === 'function') return ready(err);
      const m = ready.exec(out);
      return m ? Number(m[1] ?? 0) : undefined;
    };
    const onData = () => {
      const port = started ? undefined : portIn();
      if (port !== undefined) {
        started = true;
        clearTimeout(timer);
        noteService(args, port);
        resolve({
          child,
          port,
          output: () => out,
          logs: () => err,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exited;
          },
          kill9: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
            await exited;
          },
        });
      }
    };
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      onData();
    });
    child.stderr!.on('data', (c: Buffer) => {
      out += c.toString();
      err += c.toString();
      onData();
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`volact ${args.join(' ')} exited with ${code}\n${out}`));
    });
  });
}
