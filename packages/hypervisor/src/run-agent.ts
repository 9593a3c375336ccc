import { existsSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  DAY,
  VolactError,
  generateKeyPair,
  keyPairFromPem,
  privateKeyToPem,
  type Clock,
  type KeyPair,
} from '@volact/protocol';
import {
  adminEndpoint,
  defaultConnectionLimits,
  listenAdmin,
  makeStateDir,
  writeFileAtomic,
  type ConnectionLimits,
  type Post,
  accessLog,
  defaultLog,
  type Log,
  listenOn,
} from '@volact/io';
import { pinnedRoots, readOrCorrupt, socketAnswers } from '@volact/host';
import type Database from 'better-sqlite3';
import { HypervisorAgent, type AgentSettings } from './agent.js';
import { AgentStore, openAgentDb } from './agent-store.js';
import { GuestInterfaces, ensureOnBridges, parseListen, type RunIp } from './bridge.js';
import { adminServer, guestServer } from './http.js';
import { parseInventorySpec, type Inventory } from './inventory.js';
import { LibvirtInventory, type Virsh } from './libvirt-inventory.js';
import { systemNeighbours, type NeighbourLookup } from './neighbours.js';
import { StaticInventory } from './static-inventory.js';

export type AgentRunOptions = {
  dir: string;
  clock: Clock;
  /** The publisher's root.pub or offline bundle: needed the first time, then kept in the state directory. */
  rootPem?: string;
  /** Settings given on this start; each is stored, so a restart needs only the state directory. */
  authorityUrl?: string;
  inventory?: string;
  listen?: string[];
  bridges?: string[];
  name?: string;
  log?: Log;
  /** One `request` line per guest request in the log (default true; `--access-log off`). */
  accessLog?: boolean;
  /** Injected in tests: the neighbour table, the authority, virsh and ip. */
  neighbours?: NeighbourLookup;
  postAuthority?: Post;
  virsh?: Virsh;
  ip?: RunIp;
  connectionLimits?: Partial<ConnectionLimits>;
};

export type RunningAgent = {
  agent: HypervisorAgent;
  /** Where the guest channel listens, as bound (port 0 in tests becomes the real port). */
  listening: () => { address: string; port: number }[];
  socketPath: string;
  close: () => Promise<void>;
};

export const GUEST_EVENT_RETENTION_MS = 90 * DAY;

/** Loads or creates the agent's own key pair ('host' kid: guests check grants with kidFor('host', key)). */
function agentKeyPair(dir: string): KeyPair {
  const path = join(dir, 'hypervisor.key');
  if (existsSync(path)) return readOrCorrupt(path, (text) => keyPairFromPem('host', text));
  const pair = generateKeyPair('host');
  writeFileAtomic(path, privateKeyToPem(pair.privateKey), 0o600);
  return pair;
}

/**
 * Opens hypervisor.db. It is made before hypervisor.key, so a key beside a missing or empty
 * database is damage (the activation is lost), and a database with activated keys but no
 * hypervisor.key cannot sign what its certificates promise: both are refused.
 */
function openStateDb(dir: string): Database.Database {
  const path = join(dir, 'hypervisor.db');
  const keyPath = join(dir, 'hypervisor.key');
  const initialised = existsSync(keyPath);
  if (initialised && (!existsSync(path) || statSync(path).size === 0))
    throw new VolactError('STATE_CORRUPT', {
      file: path,
      detail: `${existsSync(path) ? 'it is empty' : 'it is missing'}, but hypervisor.key shows this agent was set up here. Restore hypervisor.db from a backup (with its -wal file), or move the state directory aside and install and activate the datacenter key again`,
    });
  let db;
  try {
    db = openAgentDb(path);
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
  }
  if (!initialised && new AgentStore(db).hasActivatedKeys()) {
    db.close();
    throw new VolactError('STATE_CORRUPT', {
      file: keyPath,
      detail:
        'it is missing, but hypervisor.db holds activated datacenter keys whose certificates name that key. Restore it from a backup',
    });
  }
  return db;
}

function openInventory(spec: string, log: Log, opts: AgentRunOptions): Inventory {
  const parsed = parseInventorySpec(spec);
  return parsed.kind === 'static'
    ? new StaticInventory(parsed.file, log)
    : new LibvirtInventory(parsed.uri, log, () => opts.clock.now(), opts.virsh);
}

function checkName(name: string): void {
  if (name.length > 128 || /[\p{Cc}\p{Cf}]/u.test(name))
    throw new VolactError('USAGE', {
      detail: "--name must be 1 to 128 characters without control characters ('' for the machine's name)",
    });
}

/** Starts a hypervisor agent from its state directory: the guest channel and the admin socket. */
export async function runAgent(opts: AgentRunOptions): Promise<RunningAgent> {
  const log = opts.log ?? defaultLog('hypervisor');
  makeStateDir(opts.dir);
  const endpoint = adminEndpoint(opts.dir);
  if (await socketAnswers(endpoint)) throw new VolactError('HYPERVISOR_ALREADY_RUNNING', { dir: opts.dir });
  // every option is checked before anything is made or stored: a refused start changes nothing
  const listens = opts.listen?.map(parseListen);
  if (opts.name !== undefined) checkName(opts.name);
  if (opts.inventory !== undefined) parseInventorySpec(opts.inventory);
  const { roots, bundle } = pinnedRoots(opts.dir, opts.rootPem);
  const db = openStateDb(opts.dir);
  const servers: Server[] = [];
  let inventory: Inventory | undefined;
  try {
    const store = new AgentStore(db);
    const spec = opts.inventory ?? (store.settings().inventory as string | undefined);
    if (!spec)
      throw new VolactError('USAGE', {
        detail: 'give --inventory static:FILE or --inventory libvirt[:URI] (stored for later starts)',
      });
    inventory = openInventory(spec, log, opts);
    if (inventory instanceof LibvirtInventory) await inventory.refresh(); // a libvirt that cannot be read stops the start
    const agent = new HypervisorAgent({
      db,
      clock: opts.clock,
      keyPair: agentKeyPair(opts.dir),
      roots,
      inventory,
      machineName: hostname(),
      offlineBundle: bundle,
      postAuthority: opts.postAuthority,
    });
    const limits: ConnectionLimits = { ...defaultConnectionLimits, ...opts.connectionLimits };
    const addresses = listens ?? agent.settings.listen.map(parseListen);
    const bridges = opts.bridges ?? agent.settings.bridges;
    for (const added of await ensureOnBridges([...new Set(addresses.map((a) => a.address))], bridges, opts.ip))
      log.info({ added }, 'address added to the bridge');
    const interfaces = new GuestInterfaces(
      addresses.map((a) => a.address),
      bridges,
      opts.ip,
    );
    for (const a of addresses) {
      const server = guestServer(
        agent,
        opts.neighbours ?? systemNeighbours,
        interfaces,
        log,
        limits,
        () => opts.clock.now(),
        undefined,
        undefined,
        opts.accessLog === false ? undefined : accessLog(log),
      );
      servers.push(server);
      await listenOn(server, a.port, a.address, `guest channel ${a.address}:${a.port}`);
    }
    const store_ = (name: keyof AgentSettings, value: AgentSettings[keyof AgentSettings] | undefined) => {
      if (value !== undefined) agent.setSetting(name, value as never);
    };
    // stored once the guest channel is bound; port 0 (tests) is never stored
    store_('authorityUrl', opts.authorityUrl);
    store_('inventory', opts.inventory);
    store_('name', opts.name === undefined ? undefined : opts.name || null);
    if (opts.listen && listens!.every((l) => l.port !== 0)) store_('listen', opts.listen);
    store_('bridges', opts.bridges);
    const admin = adminServer(agent, log, limits);
    servers.push(admin);
    await listenAdmin(admin, endpoint);
    const prune = setInterval(() => agent.pruneEvents(GUEST_EVENT_RETENTION_MS), 3_600_000);
    prune.unref();
    const guestServers = servers.slice(0, -1);
    const listening = () => guestServers.map((s) => s.address() as { address: string; port: number });
    agent.listening = listening().map((l) =>
      l.address.includes(':') ? `[${l.address}]:${l.port}` : `${l.address}:${l.port}`,
    );
    return {
      agent,
      socketPath: endpoint.path,
      listening,
      close: async () => {
        clearInterval(prune);
        await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
        for (const s of servers) s.closeAllConnections();
        inventory?.close?.();
        db.close();
      },
    };
  } catch (err) {
    // a refused start leaves nothing running
    for (const s of servers) s.close();
    inventory?.close?.();
    db.close();
    throw err;
  }
}
