import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Resolver } from 'node:dns/promises';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { track } from './children.js';
import { freePort, systemBinary } from './ports.js';

/** A real BIND 9 (`named`) on a free loopback port, with TSIG-secured zones, for the tests. */
export type Named = {
  port: number;
  server: string;
  /** BIND key file text per key name: what a host is given with --tsig-key. */
  keyFile: (name: string) => string;
  resolver: () => Resolver;
  log: () => string;
  stop: () => Promise<void>;
};

export type ZoneSpec = { name: string; keys: string[]; records?: string[] };

/**
 * Starts named with one key per name in `keys` and the given zones; each zone's update policy
 * grants its listed keys the right to change names under it. Also a key with no rights at all
 * ("outsider") for the refusal tests.
 */
export async function startNamed(dir: string, zones: ZoneSpec[], keys: string[]): Promise<Named> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const secrets = new Map([...keys, 'outsider'].map((k) => [k, randomBytes(32).toString('base64')]));
  const keyText = (name: string) => `key "${name}" {\n  algorithm hmac-sha256;\n  secret "${secrets.get(name)}";\n};\n`;
  writeFileSync(join(dir, 'keys.conf'), [...secrets.keys()].map(keyText).join(''));
  for (const z of zones) {
    writeFileSync(
      join(dir, `${z.name}.db`),
      [
        `$TTL 60`,
        `@ IN SOA ns1.${z.name}. hostmaster.${z.name}. ( 1 60 60 600 60 )`,
        `  IN NS ns1.${z.name}.`,
        `ns1 IN A 127.0.0.1`,
        ...(z.records ?? []),
      ].join('\n') + '\n',
    );
  }
  writeFileSync(
    join(dir, 'named.conf'),
    [
      'options {',
      `  directory "${dir}";`,
      `  pid-file "${dir}/named.pid";`,
      `  session-keyfile "${dir}/session.key";`,
      `  managed-keys-directory "${dir}";`,
      `  listen-on port ${port} { 127.0.0.1; };`,
      '  listen-on-v6 { none; };',
      '  recursion no;',
      '  dnssec-validation no;',
      '  notify no;',
      '};',
      'controls { };',
      `include "${dir}/keys.conf";`,
      ...zones.map((z) =>
        [
          `zone "${z.name}" {`,
          '  type primary;',
          `  file "${dir}/${z.name}.db";`,
          `  update-policy { ${z.keys.map((k) => `grant ${k} zonesub ANY;`).join(' ') || 'deny outsider zonesub ANY;'} };`,
          '};',
        ].join('\n'),
      ),
    ].join('\n') + '\n',
  );
  const named = process.env.VOLACT_NAMED ?? systemBinary('named', 'bind9 bind9-utils');
  let log = '';
  const child: ChildProcess = track(
    spawn(named, ['-c', join(dir, 'named.conf'), '-g', '-n', '1'], { stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const resolver = () => {
    const r = new Resolver({ timeout: 1000, tries: 1 });
    r.setServers([`127.0.0.1:${port}`]);
    return r;
  };
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await resolver().resolveSoa(zones[0]!.name);
      break;
    } catch (err) {
      if (child.exitCode !== null || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`named did not start: ${String(err)}\n${log}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    server: `127.0.0.1:${port}`,
    keyFile: keyText,
    resolver,
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
