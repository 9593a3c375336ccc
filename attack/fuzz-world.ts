/**
 * What the fuzzer attacks: a real authority and an activated host, each its own process (so a
 * crash shows as an exit), in a directory of the caller's, with the keys, tokens and codes that
 * valid requests need. Everything it starts is stopped by `stop()`, which fuzz.ts also calls on
 * Ctrl-C.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { decodeKey, makeInstallationId } from '@volact/protocol';
import { activationBody, admin, makeAuthority, post, startHost, volact, type Service } from './harness.js';

/** Values valid requests are made of. */
export type Fixtures = {
  /** desk-pro: covered by the host's key, so the host counts and grants. */
  setupKey: string;
  /** server-standard: not covered by the host's key, so the host answers a signed refusal. */
  uncoveredSetupKey: string;
  /** A server-group host key with high limits, for the authority's public host and directory activations. */
  hostKey: string;
  hostKeyId: string;
  /** A server-group datacenter key with high limits, for the authority's hypervisor activations. */
  datacenterKey: string;
  makKey: string;
  hostIid: string;
  makIid: string;
  confirmationId: string;
  adminToken: string;
  readToken: string;
  /** A token that revoke requests may name (never the two above). */
  victimTokenId: string;
  increaseId: string;
  /** Machines the host already counts, for renewals. */
  machineIds: string[];
};

export type Server = { name: 'host' | 'authority'; service: Service; pid: number };

export type World = {
  dir: string;
  hostPort: number;
  authorityPort: number;
  hostDir: string;
  adminSocket: string;
  hostDb: string;
  authorityDb: string;
  servers: Server[];
  fixtures: Fixtures;
  stop: () => Promise<void>;
};

/** Parts of a machine as the client hashes them (43 base64url characters each). */
export function hashedParts() {
  const h = () => randomBytes(32).toString('base64url');
  return { osId: h(), cpu: h(), board: h(), disks: [h()], nics: [h()] };
}

/** Starts the world in `base` (the caller removes it); `onStarted` hears of every process at once. */
export async function makeWorld(base: string, onStarted: (s: Service) => void): Promise<World> {
  const services: Service[] = [];
  const stop = async () => {
    await Promise.all(
      services.map((s) => Promise.race([s.stop(), new Promise((r) => setTimeout(r, 5000)).then(() => s.kill9())])),
    );
  };
  const track = (s: Service) => {
    services.push(s);
    onStarted(s);
    return s;
  };
  try {
    return await setUp(base, track, stop);
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The arguments that issue a server-group key (host or datacenter) with limits the fuzzer never reaches. */
const roomyServerKey = (command: 'issue-host-key' | 'issue-datacenter-key', dir: string) => [
  'authority',
  command,
  '--dir',
  dir,
  '--group',
  'server-2026',
  '--hosts',
  '100000',
  '--activations',
  '100000',
  '--json',
];

async function setUp(base: string, track: (s: Service) => Service, stop: () => Promise<void>): Promise<World> {
  const must = async (args: string[]) => {
    const r = await volact(args);
    if (r.code !== 0) throw new Error(`volact ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r.json;
  };
  const world = await makeAuthority(base);
  const dir = world.dir;
  const deskKey = await world.issueHostKey('desk-2026', ['--hosts', '100', '--activations', '100000']);
  const serverKey = await must(roomyServerKey('issue-host-key', dir));
  const datacenterKey = await must(roomyServerKey('issue-datacenter-key', dir));
  const mak = await must([
    'authority',
    'issue-mak',
    '--dir',
    dir,
    '--edition',
    'desk-pro',
    '--activations',
    '10000000',
    '--json',
  ]);
  const token = (name: string, scope: string) =>
    must(['authority', 'token', 'create', '--dir', dir, '--name', name, '--scope', scope, '--json']);
  const adminToken = await token('fuzz-admin', 'admin');
  const readToken = await token('fuzz-read', 'read');
  const victim = await token('fuzz-victim', 'read');

  // public activation endpoints are rate-limited per address: off, so every case reaches the code
  const authority = track(
    await world.serve({}, ['--rate-per-address', '0', '--rate-per-key', '0', '--rate-logins', '0']),
  );
  // the host pins the root from the offline bundle, so that confirmation IDs reach its offline code too
  const bundle = join(base, 'offline-bundle.json');
  await must(['authority', 'offline-bundle', '--dir', dir, '--out', bundle]);
  const hostDir = join(base, 'host');
  const host = track(await startHost(hostDir, { root: bundle, authority: `http://127.0.0.1:${authority.port}` }));
  await must(['slmgr', '--host', hostDir, '-ipk', deskKey]);
  await must(['slmgr', '--host', hostDir, '-ato']);

  const setupKey = world.setupKeys['desk-pro']!;
  const machineIds: string[] = [];
  // past the client threshold (25), so valid activations are answered with grants
  for (let i = 0; i < 26; i++) {
    const body = activationBody(setupKey, Date.now());
    const r = await post(host.port, '/v1/activate', JSON.stringify(body));
    if (r.status !== 200) throw new Error(`setup activation answered ${r.status}: ${JSON.stringify(r.body)}`);
    machineIds.push(body.machineId as string);
  }
  const iids = await admin(hostDir, 'GET', '/offline/installation-ids');
  const hostIid = iids.body.keys[0].installationId as string;
  const confirmed = await post(
    authority.port,
    '/v1/offline-confirmations',
    JSON.stringify({ v: 1, installationId: hostIid }),
  );
  if (confirmed.status !== 200)
    throw new Error(`setup confirmation answered ${confirmed.status}: ${JSON.stringify(confirmed.body)}`);
  const increase = await post(
    authority.port,
    '/v1/increase-requests',
    JSON.stringify({ v: 1, key: serverKey.key, what: 'hosts', amount: 5, reason: 'fuzz' }),
  );
  if (increase.status !== 201)
    throw new Error(`setup increase request answered ${increase.status}: ${JSON.stringify(increase.body)}`);
  const makIid = makeInstallationId(decodeKey(mak.key), {
    type: 'mak',
    machineId: randomUUID(),
    parts: hashedParts(),
  }).text;

  return {
    dir: base,
    hostPort: host.port,
    authorityPort: authority.port,
    hostDir,
    adminSocket: join(hostDir, 'admin.sock'),
    hostDb: join(hostDir, 'host.db'),
    authorityDb: join(dir, 'authority.db'),
    servers: [
      { name: 'host', service: host, pid: host.child.pid! },
      { name: 'authority', service: authority, pid: authority.child.pid! },
    ],
    fixtures: {
      setupKey,
      uncoveredSetupKey: world.setupKeys['server-standard']!,
      hostKey: serverKey.key,
      hostKeyId: serverKey.id,
      datacenterKey: datacenterKey.key,
      makKey: mak.key,
      hostIid,
      makIid,
      confirmationId: confirmed.body.confirmationId,
      adminToken: adminToken.token,
      readToken: readToken.token,
      victimTokenId: victim.id,
      increaseId: increase.body.id,
      machineIds,
    },
    stop,
  };
}
