/**
 * The servers an attack runs against: an authority with the sample catalog and an activated
 * host, each its own `volact … serve` process (a crash is a process that exits), in a temporary
 * directory. Every process and the directory are removed at the end, on Ctrl-C too.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'packages/cli/dist/main.js');

export type Server = {
  child: ChildProcess;
  port: number;
  output: () => string;
  exited: () => boolean;
  kill9: () => Promise<void>;
  stop: () => Promise<void>;
};

const children = new Set<ChildProcess>();
const cleanups: (() => Promise<void> | void)[] = [];
let cleaning: Promise<void> | undefined;

/** Stops every process started here and removes the temporary directories (once). */
export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all([...children].map((c) => stopChild(c, 'SIGTERM')));
    for (const c of cleanups.reverse()) await c();
  })();
  return cleaning;
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    process.stderr.write(`\n${sig}: cleaning up\n`);
    void cleanup().then(() => process.exit(130));
  });
}

function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      done();
    });
    child.kill(signal);
  });
}

/** Production settings: the servers under attack never run a test clock. */
function serverEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NODE_ENV: 'production' };
  delete env.VOLACT_TEST_CLOCK;
  return env;
}

/** Spawns `volact ARGS` as a server and waits for its `{"msg":"listening","port":N}` log line (stderr). */
export function serve(args: string[]): Promise<Server> {
  return new Promise((resolvePort, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: serverEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let out = '';
    const keep = (c: Buffer) => {
      out += c.toString();
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    const timer = setTimeout(
      () => reject(new Error(`volact ${args.join(' ')} did not start within 20 s:\n${out}`)),
      20_000,
    );
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.once('exit', (code, signal) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`volact ${args.join(' ')} exited (${code ?? signal}):\n${out}`));
    });
    child.stdout!.on('data', keep);
    let started = false;
    child.stderr!.on('data', (c: Buffer) => {
      keep(c);
      const m = started
        ? null
        : /"msg":"listening"/.test(out)
          ? /\{[^\n]*"port":(\d+)[^\n]*"msg":"listening"/.exec(out)
          : null;
      if (m) {
        started = true;
        clearTimeout(timer);
        resolvePort({
          child,
          port: Number(m[1]),
          output: () => out,
          exited: () => child.exitCode !== null || child.signalCode !== null,
          kill9: async () => {
            child.kill('SIGKILL');
            await exited;
          },
          stop: () => stopChild(child, 'SIGTERM'),
        });
      }
    });
  });
}

/** Runs `volact ARGS` to its end; rejects on a non-zero exit. */
export function volact(args: string[]): Promise<string> {
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

export type World = {
  dir: string;
  authority: Server;
  authorityDir: string;
  hostDir: string;
  host: Server;
  setupKeys: Record<string, string>;
  /** A MAK for desk-enterprise with 1,000,000 activations. */
  makKey: string;
  /** Starts the host again on its state directory (after a stop or a kill -9). */
  restartHost: () => Promise<Server>;
};

/** An authority and an activated host; `hostArgs` are added to `host serve`. */
export async function makeWorld(prefix: string, hostArgs: string[] = []): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const authorityDir = join(dir, 'authority');
  await volact(['authority', 'init', '--dir', authorityDir, '--json']);
  const catalog = JSON.parse(await volact(['authority', 'import-catalog', '--dir', authorityDir, '--json'])) as {
    editions: { code: string; setupKey: string }[];
  };
  const hostKey = (
    JSON.parse(
      await volact(['authority', 'issue-host-key', '--group', 'server-2026', '--dir', authorityDir, '--json']),
    ) as { key: string }
  ).key;
  const makKey = (
    JSON.parse(
      await volact([
        'authority',
        'issue-mak',
        '--edition',
        'desk-enterprise',
        '--activations',
        '1000000',
        '--dir',
        authorityDir,
        '--json',
      ]),
    ) as { key: string }
  ).key;
  const authority = await serve([
    'authority',
    'serve',
    '--dir',
    authorityDir,
    '--port',
    '0',
    '--rate-per-address',
    '0',
    '--rate-per-key',
    '0',
  ]);
  const hostDir = join(dir, 'host');
  const hostServe = () =>
    serve([
      'host',
      'serve',
      '--state',
      hostDir,
      '--port',
      '0',
      '--listen',
      '127.0.0.1',
      '--name',
      'attack-host',
      ...hostArgs,
    ]);
  const host = await serve([
    'host',
    'serve',
    '--state',
    hostDir,
    '--root',
    join(authorityDir, 'root.pub'),
    '--authority',
    `http://127.0.0.1:${authority.port}`,
    '--port',
    '0',
    '--listen',
    '127.0.0.1',
    '--name',
    'attack-host',
    ...hostArgs,
  ]);
  await volact(['slmgr', '--host', hostDir, '-ipk', hostKey]);
  await volact(['slmgr', '--host', hostDir, '-ato']);
  const world: World = {
    dir,
    authority,
    authorityDir,
    hostDir,
    host,
    setupKeys: Object.fromEntries(catalog.editions.map((e) => [e.code, e.setupKey])),
    makKey,
    restartHost: async () => {
      world.host = await hostServe();
      return world.host;
    },
  };
  return world;
}

/** Open file descriptors of a process (sockets included), or NaN when it is gone. */
export function openFds(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return NaN;
  }
}

export const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]! : NaN;
};
