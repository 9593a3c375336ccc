import { spawn, type ChildProcess } from 'node:child_process';
import { track } from './children.js';
import { volactCommand } from './cli.js';
import { noteService } from './exchanges.js';

export type Service = {
  child: ChildProcess;
  port: number;
  stop: () => Promise<void>;
  kill9: () => Promise<void>;
  output: () => string;
};

/** Spawns a long-running volact command and waits for its "listening on … PORT" line. */
export function startService(
  args: string[],
  env: Record<string, string | undefined> = {},
  ready = /listening on (?:port |http:\/\/[^:]+:)(\d+)/,
  netns?: string,
): Promise<Service> {
  return new Promise((resolve, reject) => {
    const [cmd, argv] = volactCommand(args, netns);
    const child = track(
      spawn(cmd, argv, {
        env: { ...process.env, NODE_ENV: 'test', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`service did not start: volact ${args.join(' ')}\n${out}`));
    }, 15_000);
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const onData = (c: Buffer) => {
      out += c.toString();
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        noteService(args, Number(m[1]));
        resolve({
          child,
          port: Number(m[1]),
          output: () => out,
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
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`volact ${args.join(' ')} exited with ${code}\n${out}`));
    });
  });
}
