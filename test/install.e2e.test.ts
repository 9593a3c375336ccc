import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { lstatSync, mkdirSync, readFileSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { track } from './harness/children.js';
import { tempDir } from './harness/cli.js';
import { listeningPort } from './harness/processes.js';

const repo = new URL('../..', import.meta.url).pathname;
const version = (JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string }).version;

type Run = { code: number; stdout: string; stderr: string; json: any };

/** Runs a command to its end, with its children stopped with the test file whatever happens. */
function run(cmd: string, args: string[], opts: { cwd: string; env?: Record<string, string> }): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = track(
      spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] }),
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

/** Starts a long-running command and resolves with its port once it logs `{"msg":"listening","port":N}` on stderr. */
function serve(cmd: string, args: string[], opts: { cwd: string; env: Record<string, string> }) {
  return new Promise<{ port: number; stop: () => Promise<void> }>((resolve, reject) => {
    const child = track(spawn(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env } }));
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    const stop = async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    };
    let out = '';
    const timer = setTimeout(() => void stop().then(() => reject(new Error(`did not start: ${args}\n${out}`))), 20_000);
    child.stdout.on('data', (c) => (out += c));
    child.stderr.on('data', (c) => {
      out += c;
      const port = listeningPort(out);
      if (port !== undefined) {
        clearTimeout(timer);
        resolve({ port, stop });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`volact ${args.join(' ')} exited with ${code}\n${out}`));
    });
  });
}

/**
 * What an operator gets: the tarballs of `npm run pack`, installed into an empty prefix with no
 * registry for @volact/* (an unreachable one, so a fetch of any of them fails), then a whole
 * activation (authority, host, five server machines) run with the installed `volact` only.
 */
describe('the packed packages, installed', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-install-');
  const tarballs = join(tmp.path, 'tarballs');
  const prefix = join(tmp.path, 'prefix');
  const bin = join(prefix, 'node_modules', '.bin', 'volact');
  // the installed bin runs under `#!/usr/bin/env node`: this Node, and no file of the repository
  const env = { PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  const services: { stop: () => Promise<void> }[] = [];
  const volact = (...args: string[]) => run(bin, args, { cwd: tmp.path, env });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    tmp.cleanup();
  });

  before(async () => {
    const pack = await run('bash', ['scripts/pack.sh', tarballs], { cwd: repo });
    assert.equal(pack.code, 0, pack.stdout + pack.stderr);
  });

  it('packs every package with its build, bin and licence, and no sources or tests', async () => {
    const files = readdirSync(tarballs).sort();
    assert.deepEqual(
      files,
      ['authority', 'cli', 'client', 'console', 'directory', 'host', 'hypervisor', 'io', 'protocol'].map(
        (p) => `volact-${p}-${version}.tgz`,
      ),
    );
    const contents = async (file: string) =>
      (await run('tar', ['-tzf', join(tarballs, file)], { cwd: tmp.path })).stdout.split('\n').filter(Boolean);
    await Promise.all(
      files.map(async (file) => {
        const list = await contents(file);
        assert.ok(list.includes('package/LICENSE'), `${file} holds the licence`);
        assert.ok(list.includes('package/package.json'));
        const stray = list.filter((f) => /\.test\.|\/src\/|fixtures|\.ts$/.test(f) && !f.endsWith('.d.ts'));
        assert.deepEqual(stray, [], `${file} ships no sources, tests or fixtures`);
        if (file.startsWith('volact-cli-')) {
          assert.ok(list.includes('package/bin/volact.js') && list.includes('package/dist/main.js'), list.join(' '));
        } else if (file.startsWith('volact-console-')) {
          // the built web consoles, no code to import
          for (const part of ['host', 'authority'])
            assert.ok(list.includes(`package/dist/${part}/index.html`), `${file} holds dist/${part}`);
        } else {
          assert.ok(list.includes('package/dist/index.js') && list.includes('package/dist/index.d.ts'), file);
        }
        if (file.startsWith('volact-authority-')) assert.ok(list.includes('package/sample-catalog.json'));
      }),
    );
  });

  it('installs from the tarballs alone into an empty prefix', async () => {
    mkdirSync(prefix);
    // better-sqlite3 builds its binding at install time (from source where no prebuilt can be fetched)
    writeFileSync(
      join(prefix, 'package.json'),
      JSON.stringify({ private: true, allowScripts: { 'better-sqlite3': true } }),
    );
    const started = Date.now();
    const install = await run(
      'npm',
      [
        'install',
        '--prefix',
        prefix,
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        // npm prefetches a tarball's @volact/* dependencies before it places the tarball that holds
        // them; those fetches must fail at once (and be ignored), not retry for minutes
        '--fetch-retries=0',
        '--@volact:registry=http://127.0.0.1:9/',
        ...readdirSync(tarballs).map((f) => join(tarballs, f)),
      ],
      { cwd: tmp.path },
    );
    assert.equal(install.code, 0, install.stdout + install.stderr);
    process.stderr.write(`install: npm install of the tarballs took ${Math.round((Date.now() - started) / 1000)} s\n`);
    const cli = join(prefix, 'node_modules', '@volact', 'cli');
    assert.equal(lstatSync(cli).isSymbolicLink(), false, 'a copy, not a link to the workspace');
    assert.equal(realpathSync(bin), join(cli, 'bin', 'volact.js'));
    const v = await volact('--version');
    assert.equal(v.code, 0, v.stderr);
    assert.equal(v.stdout.trim(), version);
  });

  it('activates five server machines through a host with the installed volact', async () => {
    const authority = join(tmp.path, 'authority');
    const must = async (...args: string[]) => {
      const r = await volact(...args);
      assert.equal(r.code, 0, `volact ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      return r;
    };
    await must('authority', 'init', '--dir', authority, '--json');
    const catalog = (await must('authority', 'import-catalog', '--dir', authority, '--json')).json as {
      editions: { code: string; setupKey: string }[];
    };
    const setupKey = catalog.editions.find((e) => e.code === 'server-standard')!.setupKey;
    const hostKey = (await must('authority', 'issue-host-key', '--dir', authority, '--group', 'server-2026', '--json'))
      .json.key as string;
    const root = join(authority, 'root.pub');
    const served = await serve(bin, ['authority', 'serve', '--dir', authority, '--port', '0'], { cwd: tmp.path, env });
    services.push(served);
    // the installed authority serves the built console it depends on, not the "not built" page
    const page = await (await fetch(`http://127.0.0.1:${served.port}/console/`)).text();
    assert.match(page, /<script type="module" crossorigin src="\/console\/assets\/index-[\w-]+\.js">/);

    const hostDir = join(tmp.path, 'host');
    const host = await serve(
      bin,
      [
        'host',
        'serve',
        '--state',
        hostDir,
        '--root',
        root,
        '--authority',
        `http://127.0.0.1:${served.port}`,
        '--port',
        '0',
        '--listen',
        '127.0.0.1',
        '--name',
        'installed-host',
      ],
      { cwd: tmp.path, env },
    );
    services.push(host);
    await must('slmgr', '--host', hostDir, '-ipk', hostKey);
    const ato = await must('slmgr', '--host', hostDir, '-ato', '--json');
    assert.equal(ato.json.activated[0].group, 'server-2026');

    // five machines: a state directory and a fingerprint each (server editions need a count of 5)
    const answers: Run[] = [];
    let text: Run | undefined;
    for (let i = 0; i < 5; i++) {
      const dir = join(tmp.path, 'machines', `srv-${i}`);
      mkdirSync(dir, { recursive: true });
      const fingerprint = join(tmp.path, 'machines', `srv-${i}.json`);
      const fp = {
        osId: `install-test-${i}`,
        cpu: 'cpu',
        board: `board-${i}`,
        disks: [`disk-${i}`],
        nics: [`nic-${i}`],
      };
      writeFileSync(fingerprint, JSON.stringify(fp));
      const machine = { cwd: tmp.path, env: { ...env, VOLACT_FINGERPRINT_FILE: fingerprint } };
      const slmgr = (...args: string[]) => run(bin, ['slmgr', '--state', dir, '--json', ...args], machine);
      assert.equal((await volact('client', 'trust', root, '--state', dir)).code, 0);
      assert.equal((await slmgr('-ipk', setupKey)).code, 0);
      assert.equal((await slmgr('-skms', `127.0.0.1:${host.port}`)).code, 0);
      answers.push(await slmgr('-ato'));
      if (i < 4) continue;
      answers.push(await slmgr('-dli'));
      text = await run(bin, ['slmgr', '--state', dir, '-dlv'], machine);
    }
    for (const [i, r] of answers.slice(0, 4).entries()) {
      assert.equal(r.code, 4, `machine ${i}: ${r.stdout}${r.stderr}`);
      assert.equal(r.json.code, 'COUNT_INSUFFICIENT');
      assert.equal(r.json.count, i + 1);
      assert.equal(r.json.required, 5);
    }
    const [last, dli] = answers.slice(4);
    assert.equal(last!.code, 0, last!.stdout + last!.stderr);
    assert.equal(last!.json.outcome, 'activated');
    assert.equal(last!.json.count, 5);
    assert.equal(dli!.json.licenseState, 'licensed');
    assert.equal(dli!.json.edition.code, 'server-standard');
    assert.equal(dli!.json.lastAnswer.count, 5);
    assert.equal(dli!.json.lastAnswer.required, 5);
    assert.match(text!.stdout, /License Status: Licensed/);
    assert.match(text!.stdout, /Last answer: grant, count 5 of 5, from 127\.0\.0\.1:/);
  });
});
