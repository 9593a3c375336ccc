import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('./main.js', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'volact-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// every module the CLI loads, ESM (a resolve hook) and CommonJS (the require cache at exit)
writeFileSync(
  join(dir, 'hooks.mjs'),
  "import { appendFileSync } from 'node:fs';\nexport async function resolve(s, c, next) { const r = await next(s, c); appendFileSync(process.env.LOADED_LOG, r.url + '\\n'); return r; }\n",
);
writeFileSync(
  join(dir, 'register.mjs'),
  "import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n",
);
writeFileSync(
  join(dir, 'cjs.cjs'),
  "process.on('exit', () => require('node:fs').appendFileSync(process.env.LOADED_LOG, Object.keys(require.cache).join('\\n') + '\\n'));\n",
);

/** Runs the CLI; returns its exit code and every file it loaded. */
function loaded(args: string[]): { code: number | null; stdout: string; files: string[] } {
  const log = join(dir, `loaded-${args.join('_').replace(/\W/g, '')}.txt`);
  writeFileSync(log, '');
  const r = spawnSync(
    process.execPath,
    ['--require', join(dir, 'cjs.cjs'), '--import', join(dir, 'register.mjs'), main, ...args],
    {
      env: { ...process.env, LOADED_LOG: log, VOLACT_STATE_DIR: join(dir, 'state') },
      encoding: 'utf8',
    },
  );
  return { code: r.status, stdout: r.stdout, files: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
}

const heavy = [
  '/packages/authority/',
  '/packages/host/',
  '/node_modules/kysely/',
  '/node_modules/pg/',
  '/node_modules/better-sqlite3/',
  '/node_modules/qrcode/',
];
const among = (files: string[], parts: string[]) => parts.filter((p) => files.some((f) => f.includes(p)));

describe('what the CLI loads to start', () => {
  it('volact slmgr -dli loads neither the authority, the host, the databases nor the QR code', () => {
    const r = loaded(['slmgr', '-dli']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /License Status: Unlicensed/);
    assert.ok(
      r.files.some((f) => f.includes('/packages/client/')),
      'the client code is loaded (the hooks see imports)',
    );
    assert.deepEqual(among(r.files, heavy), []);
  });

  it('volact --help loads no role: no authority, host, client, directory or database code', () => {
    const r = loaded(['--help']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /slmgr/);
    assert.deepEqual(
      among(r.files, [...heavy, '/packages/client/', '/packages/directory/', '/node_modules/ldapts/']),
      [],
    );
  });
});
