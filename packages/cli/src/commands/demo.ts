import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { processClock, silentLog } from '@volact/io';
import { adminCall } from '../admin-client.js';
import { fail } from '../output.js';

/**
 * `volact demo`: an authority and an activation host on loopback, on the embedded SQLite
 * default, with the sample catalog; the host is activated with a server-group host key.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run an authority and an activation host on loopback with the sample catalog')
    .option('--dir <dir>', 'where the demo keeps its state', '.demo')
    .option('--authority-port <port>', 'authority port', '18180')
    .option('--host-port <port>', 'activation host port', '16880')
    .option('--console-port <port>', "the host console's port (HTTPS)", '16900')
    .action(async (o: Record<string, string>) => {
      try {
        // the authority and host code load only when the demo runs
        const [{ initKeys, openAuthority, runAuthority, sampleCatalogPath }, { runHost }] = await Promise.all([
          import('@volact/authority'),
          import('@volact/host'),
        ]);
        const dir = resolve(o.dir!);
        const clock = processClock();
        const authDir = join(dir, 'authority');
        const hostDir = join(dir, 'host');
        let hostKey: string | undefined;
        if (!existsSync(join(authDir, 'root.pub'))) {
          initKeys(authDir, clock.now());
          const { authority, close } = await openAuthority(authDir, clock);
          await authority.importCatalog(JSON.parse(readFileSync(sampleCatalogPath(), 'utf8')), 'cli:demo');
          hostKey = (await authority.issueHostKey('server-2026', {}, 'cli:demo')).key;
          await authority.issueHostKey('desk-2026', {}, 'cli:demo');
          await close();
        }
        const auth = await runAuthority(
          authDir,
          clock,
          Number(o.authorityPort),
          '127.0.0.1',
          undefined,
          undefined,
          undefined,
          {},
          {
            log: silentLog,
          },
        );
        const host = await runHost({
          dir: hostDir,
          clock,
          rootPem: readFileSync(join(authDir, 'root.pub'), 'utf8'),
          authorityUrl: `http://127.0.0.1:${auth.port}`,
          port: Number(o.hostPort),
          listenAddress: '127.0.0.1',
          hostName: 'demo-host',
          log: silentLog,
          console: { address: { host: '127.0.0.1', port: Number(o.consolePort) }, explicit: true },
        });
        if (hostKey) {
          host.host.installKey(hostKey);
          await host.host.activate();
        }
        const { authority, close } = await openAuthority(authDir, clock);
        const catalog = (await authority.catalog()).catalog;
        // a token for each console, new at each run (their secrets are never stored)
        const authorityToken = (await authority.createToken('demo console', ['admin'], 'cli:demo')).token;
        await close();
        const hostToken = (
          await adminCall<{ token: string }>(hostDir, 'POST', '/console-tokens', {
            name: 'demo console',
            scope: 'admin',
          })
        ).token;
        const setup = (code: string) => catalog.editions.find((e) => e.code === code)!.setupKey;
        const rel = (p: string) => p.replace(process.cwd() + '/', '');
        const lines = [
          `volact demo is running (Ctrl-C stops it).`,
          `  authority        http://127.0.0.1:${auth.port}   state ${rel(authDir)}`,
          `  activation host  127.0.0.1:${host.port()}         state ${rel(hostDir)}  (server group: activates server and client editions)`,
          '',
          'Web consoles (Japanese or English, after your browser; the host console has a self-signed certificate):',
          `  host console       ${host.console?.url ?? '(off)'}   token ${hostToken}`,
          `  authority console  http://127.0.0.1:${auth.port}/console/   token ${authorityToken}`,
          `  offline activation http://127.0.0.1:${auth.port}/console/#/offline   (no login: the page slmgr -dti names)`,
          '',
          'Try, in another terminal:',
          `  npx volact slmgr --host ${rel(hostDir)} -dlv                       # the host: count, thresholds, intervals`,
          `  export VOLACT_STATE_DIR=${rel(dir)}/clients/pc01                   # one simulated machine per directory`,
          `  npx volact client trust ${rel(authDir)}/root.pub`,
          `  npx volact slmgr -ipk ${setup('desk-pro')}      # Desk Pro setup key`,
          `  npx volact slmgr -skms 127.0.0.1:${host.port()}`,
          `  npx volact slmgr -ato                                              # "the host has seen 1 of the 25 machines it needs"`,
          `  npx volact slmgr -dlv`,
          '',
          'Many machines at once (server editions need 5, client editions 25):',
          `  for i in $(seq -w 1 25); do d=${rel(dir)}/clients/m$i; npx volact client trust ${rel(authDir)}/root.pub --state $d >/dev/null;`,
          `    npx volact slmgr --state $d -ipk ${setup('desk-enterprise')} >/dev/null; npx volact slmgr --state $d -skms 127.0.0.1:${host.port()} >/dev/null;`,
          `    npx volact slmgr --state $d -ato; done`,
          '',
          `Setup keys: npx volact authority catalog --dir ${rel(authDir)}    Host keys: npx volact authority host-keys --dir ${rel(authDir)}`,
          `Events: npx volact host events --state ${rel(hostDir)} --jsonl`,
          '',
          'Offline (phone) activation of a MAK machine:',
          `  npx volact authority offline-bundle --dir ${rel(authDir)} --out ${rel(dir)}/offline.json`,
          `  npx volact authority issue-mak --dir ${rel(authDir)} --edition desk-pro --activations 5`,
          `  export VOLACT_STATE_DIR=${rel(dir)}/clients/offline; npx volact client trust ${rel(dir)}/offline.json`,
          '  npx volact slmgr -ipk MAK; npx volact slmgr -dti                 # the installation ID',
          `  npx volact authority confirm INSTALLATION-ID --dir ${rel(authDir)}   # the confirmation ID`,
          '  npx volact slmgr -atp CONFIRMATION-ID; npx volact slmgr -dlv',
        ];
        process.stdout.write(lines.join('\n') + '\n');
        const stop = () => void Promise.all([host.close(), auth.close()]).then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (err) {
        fail(err, false);
      }
    });
}
