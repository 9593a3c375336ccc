import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Network namespaces as the guests of a hypervisor (recipe: ../shared/reference/
 * toolchain-and-test-services.md §2f). A hypervisor is a namespace holding a bridge with the
 * agent's link-local address; a guest is a namespace whose only link is one end of a veth pair,
 * the other end a port of that bridge; a "physical" machine is a namespace beside the bridges.
 * Only link-local and loopback addresses, only inside namespaces made here.
 *
 * Every namespace is named after this process (`va<pid>…`), so whatever a run leaves behind (a
 * killed run) is found by the next one and removed; and removing a namespace removes the veth
 * ends and the bridge inside it. `cleanup` runs in an `after` hook and, should the process die
 * without it, at exit.
 */
export type Lab = {
  /** Makes a hypervisor namespace with bridge br0 holding `agentAddress`/16. */
  hypervisor: (name: string, agentAddress?: string) => Promise<string>;
  /** Makes a guest namespace attached to a hypervisor's bridge, with this MAC and link-local address. */
  guest: (name: string, hypervisorNs: string, mac: string, address: string) => Promise<Guest>;
  /**
   * Makes a namespace on no bridge: a machine that is not a guest of any hypervisor. With
   * `routedTo`, it sits on another network of that hypervisor's namespace (a LAN link, not the
   * guest bridge), with a route to the agent's address through it.
   */
  physical: (
    name: string,
    address: string,
    routedTo?: { hypervisorNs: string; agentAddress?: string; mac?: string },
  ) => Promise<string>;
  /** Moves a guest's cable to another hypervisor's bridge (a live migration, as the network sees it). */
  migrate: (guest: Guest, toHypervisorNs: string) => Promise<void>;
  /** Runs a command inside a namespace. */
  exec: (ns: string, cmd: string, args: string[]) => Promise<{ stdout: string; stderr: string }>;
  cleanup: () => void;
};

export type Guest = { ns: string; mac: string; address: string; port: string; hypervisor: string };

/** Why these tests cannot run here, or null when they can (root, iproute2, namespaces). */
export function labUnavailable(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return 'needs iproute2 (ip netns)';
  }
  return null;
}

const prefix = `va${process.pid.toString(36)}`;

/** Deletes namespaces left by runs whose process is gone. */
function sweepStale(): void {
  const list = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = /^va([0-9a-z]+)-/.exec(name);
    if (!m) continue;
    const pid = parseInt(m[1]!, 36);
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch {
      alive = false;
    }
    if (!alive || pid === process.pid) execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' });
  }
}

export function makeLab(): Lab {
  sweepStale();
  const namespaces: string[] = [];
  const ip = (...args: string[]) => run('ip', args);
  const addNs = async (name: string) => {
    const ns = `${prefix}-${name}`;
    if (ns.length > 15) throw new Error(`namespace name ${ns} is too long for its interface names`);
    await ip('netns', 'add', ns);
    namespaces.push(ns);
    await ip('-n', ns, 'link', 'set', 'lo', 'up');
    return ns;
  };
  const cleanup = () => {
    for (const ns of namespaces.splice(0)) {
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    }
  };
  process.once('exit', cleanup);
  let links = 0;
  let hypervisors = 0;
  const plug = async (guestPort: string, hypervisorNs: string) => {
    await ip('link', 'set', guestPort, 'netns', hypervisorNs).catch(async () => {
      await ip('-n', hypervisorNs, 'link', 'show', guestPort); // already there
    });
    await ip('-n', hypervisorNs, 'link', 'set', guestPort, 'master', 'br0');
    await ip('-n', hypervisorNs, 'link', 'set', guestPort, 'up');
  };
  return {
    hypervisor: async (name, agentAddress = '169.254.16.88') => {
      const ns = await addNs(name);
      // a fixed MAC, as libvirt gives virbr0: a bridge otherwise takes the lowest MAC of its
      // ports, changes it when that port leaves (a migration), and its guests' ARP entries for the
      // agent's address go stale for seconds
      hypervisors++;
      const mac = `02:56:41:00:00:${hypervisors.toString(16).padStart(2, '0')}`;
      await ip('-n', ns, 'link', 'add', 'br0', 'address', mac, 'type', 'bridge');
      await ip('-n', ns, 'link', 'set', 'br0', 'up');
      await ip('-n', ns, 'addr', 'add', `${agentAddress}/16`, 'dev', 'br0');
      return ns;
    },
    guest: async (name, hypervisorNs, mac, address) => {
      const ns = await addNs(name);
      const n = ++links;
      const inside = `${prefix}v${n}`;
      const port = `${prefix}p${n}`;
      await ip('link', 'add', inside, 'type', 'veth', 'peer', 'name', port);
      try {
        await ip('link', 'set', inside, 'netns', ns);
        await plug(port, hypervisorNs);
      } catch (err) {
        // a veth still in this namespace would outlive the namespaces; remove it now
        await ip('link', 'del', inside).catch(() => undefined);
        await ip('link', 'del', port).catch(() => undefined);
        throw err;
      }
      await ip('-n', ns, 'link', 'set', inside, 'address', mac);
      await ip('-n', ns, 'link', 'set', inside, 'up');
      await ip('-n', ns, 'addr', 'add', `${address}/16`, 'dev', inside);
      return { ns, mac, address, port, hypervisor: hypervisorNs };
    },
    physical: async (name, address, routedTo) => {
      const ns = await addNs(name);
      if (!routedTo) {
        // a link-local address on a link with nothing else on it: a machine on a network without an agent
        await ip('-n', ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth1');
        await ip('-n', ns, 'link', 'set', 'eth0', 'up');
        await ip('-n', ns, 'link', 'set', 'eth1', 'up');
        await ip('-n', ns, 'addr', 'add', `${address}/16`, 'dev', 'eth0');
        return ns;
      }
      // a LAN between the machine and the hypervisor: 169.254.99.0/24, the hypervisor at .1
      const n = ++links;
      const inside = `${prefix}v${n}`;
      const lan = `${prefix}l${n}`;
      await ip('link', 'add', inside, 'type', 'veth', 'peer', 'name', lan);
      try {
        await ip('link', 'set', inside, 'netns', ns);
        await ip('link', 'set', lan, 'netns', routedTo.hypervisorNs);
      } catch (err) {
        await ip('link', 'del', inside).catch(() => undefined);
        await ip('link', 'del', lan).catch(() => undefined);
        throw err;
      }
      await ip('-n', routedTo.hypervisorNs, 'addr', 'add', '169.254.99.1/24', 'dev', lan);
      await ip('-n', routedTo.hypervisorNs, 'link', 'set', lan, 'up');
      if (routedTo.mac) await ip('-n', ns, 'link', 'set', inside, 'address', routedTo.mac);
      await ip('-n', ns, 'link', 'set', inside, 'up');
      await ip('-n', ns, 'addr', 'add', `${address}/24`, 'dev', inside);
      await ip('-n', ns, 'route', 'add', `${routedTo.agentAddress ?? '169.254.16.88'}/32`, 'via', '169.254.99.1');
      return ns;
    },
    migrate: async (guest, toHypervisorNs) => {
      await ip('-n', guest.hypervisor, 'link', 'set', guest.port, 'netns', toHypervisorNs);
      guest.hypervisor = toHypervisorNs;
      await plug(guest.port, toHypervisorNs);
      // the guest still knows the old bridge's MAC for the agent's address; a migrated guest
      // announces itself anew, and this is what it forgets
      await ip('-n', guest.ns, 'neigh', 'flush', 'all');
    },
    exec: (ns, cmd, args) => run('ip', ['netns', 'exec', ns, cmd, ...args]),
    cleanup,
  };
}
