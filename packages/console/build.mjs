// Builds the two consoles with Vite: dist/host/ (served at / by the host's console listener) and
// dist/authority/ (served at /console/ by the authority). `npm run build` and scripts/ensure-deps.sh
// run it; a build writes dist/.built last, so a stamp newer than every source means "up to date".
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { build } from 'vite';
import preact from '@preact/preset-vite';

const here = fileURLToPath(new URL('.', import.meta.url));
for (const [name, base] of [
  ['host', '/'],
  ['authority', '/console/'],
]) {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: join(here, 'src', name),
    base,
    plugins: [preact({ devToolsInProd: false, prefreshEnabled: false })],
    build: {
      outDir: join(here, 'dist', name),
      emptyOutDir: true,
      // no inline polyfill script: the CSP allows scripts from 'self' only
      modulePreload: { polyfill: false },
      assetsInlineLimit: 0,
      target: 'es2022',
      reportCompressedSize: false,
    },
  });
}
writeFileSync(join(here, 'dist', '.built'), `${new Date().toISOString()}\n`);
