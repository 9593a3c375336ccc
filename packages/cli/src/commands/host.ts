import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { VolactError, parseOfflineBundle, publicKeyFromPem } from '@volact/protocol';
import { runHost } from '@volact/host';
import { adminCall } from '../admin-client.js';
import { processClock } from '../process-clock.js';
import { emit, fail, table } from '../output.js';

/** Reads a root.pub given on the command line; a bad file is a usage error, not a crash. */
export function readRootPem(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new VolactError('USAGE', { detail: `cannot read ${file}: ${(err as Error).message}` });
  }
  // the publisher's offline bundle carries the root (and what offline activation needs)
  if (parseOfflineBundle(pem)) return pem;
  try {
    publicKeyFromPem(pem);
  } catch {
    throw new VolactError('USAGE', { detail: `${file} is neither an Ed25519 public key in PEM form nor an offline bundle` });
  }
  return pem;
}

export const defaultHostDir = () => process.env.VOLACT_HOST_DIR ?? '/var/lib/volact/host';

/** `volact host …`: run an activation host and look into it. Settings go through `volact slmgr --host`. */
export function registerHost(program: Command): void {
  const cmd = program.command('host').description('an activation host on the customer network (settings: volact slmgr --host DIR -sai/-sri/-sprt)');

  cmd
    .command('serve')
    .description('run the activation host: client port and admin socket (DIR/admin.sock)')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--root <file>', "the publisher's root.pub, or its offline bundle, to pin (needed the first time)")
    .option('--authority <url>', 'authority URL for host activation')
    .option('--port <port>', 'client port (default 1688, or the stored -sprt setting)')
    .option('--listen <address>', 'address to listen on', '::')
    .option('--serve-networks <cidrs>', 'comma-separated networks to serve (default: loopback and private ranges)')
    .option('--name <name>', 'host name shown to clients (default: the machine name)')
    .action(async (o: Record<string, string | undefined>) => {
      try {
        const port = o.port === undefined ? undefined : Number(o.port);
        if (port !== undefined && (!/^\d+$/.test(o.port!) || port > 65535)) throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'port', min: 0, max: 65535, value: o.port! });
        const running = await runHost({
          dir: o.state ?? defaultHostDir(),
          clock: processClock(),
          rootPem: o.root ? readRootPem(o.root) : undefined,
          authorityUrl: o.authority,
          port,
          listenAddress: o.listen,
          servedNetworks: o.serveNetworks?.split(',').map((s) => s.trim()).filter(Boolean),
          hostName: o.name,
        });
        process.stdout.write(`activation host listening on port ${running.port()} (admin socket ${running.socketPath})\n`);
        const stop = () => void running.close().then(() => process.exit(0));
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      } catch (err) {
        fail(err, false);
      }
    });

  cmd
    .command('events')
    .description('requests handled (event 12290): machine ID, VM flag, license state, outcome')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--since <time>', 'ISO time')
    .option('--machine <id>', 'one machine ID')
    .option('--outcome <outcome>', 'activated | renewed | countInsufficient | editionNotCovered | clockSkew | notActivated')
    .option('--limit <n>', 'at most this many, newest', '1000')
    .option('--json', 'one JSON array')
    .option('--jsonl', 'JSON lines')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = new URLSearchParams();
        if (o.since) {
          const t = Date.parse(o.since as string);
          if (!Number.isFinite(t)) throw new VolactError('USAGE', { detail: `--since ${String(o.since)} is not a time` });
          q.set('since', String(t));
        }
        if (o.machine) q.set('machine', o.machine as string);
        if (o.outcome) q.set('outcome', o.outcome as string);
        if (o.limit) q.set('limit', o.limit as string);
        const events = await adminCall<Record<string, unknown>[]>((o.state as string | undefined) ?? defaultHostDir(), 'GET', `/events?${q}`);
        if (o.jsonl) process.stdout.write(events.map((e) => JSON.stringify(e)).join('\n') + (events.length ? '\n' : ''));
        else emit(Boolean(o.json), events, () => table(events, ['at', 'event', 'machineId', 'vm', 'licenseState', 'edition', 'outcome', 'count', 'required']));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });

  cmd
    .command('machines')
    .description('machines seen, newest first')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--several-fingerprints', 'only machine IDs seen with several fingerprints (cloned images)')
    .option('--limit <n>', 'at most this many', '100')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const q = new URLSearchParams({ limit: String(o.limit) });
        if (o.severalFingerprints) q.set('fingerprints', 'several');
        const rows = await adminCall<Record<string, unknown>[]>((o.state as string | undefined) ?? defaultHostDir(), 'GET', `/machines?${q}`);
        emit(Boolean(o.json), rows, () => table(rows, ['machineId', 'machineName', 'lastSeen', 'requests', 'edition', 'vm', 'licenseState', 'lastOutcome', 'fingerprints']));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
