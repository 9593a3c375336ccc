import { execFile } from 'node:child_process';
import { isIP } from 'node:net';
import { VolactError } from '@volact/protocol';

/** Runs `ip ARGS`; the failure's message is ip's own (stderr). */
export type RunIp = (args: string[]) => Promise<string>;

export const runIp: RunIp = (args) =>
  new Promise((resolve, reject) =>
    execFile('ip', args, { timeout: 5_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error((stderr || err.message).trim().split('\n')[0]!.slice(0, 300)));
      else resolve(stdout);
    }),
  );

/** `--listen ADDR:PORT` (IPv6 in brackets): the address and port the guest channel binds. */
export function parseListen(text: string): { address: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  if (!m || isIP(m[1]!) === 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw new VolactError('USAGE', {
      detail: `--listen ${text}: give ADDRESS:PORT, e.g. 169.254.16.88:1689 (IPv6 as [fe80::…]:1689)`,
    });
  // the channel is the proof that the caller is a guest: it listens on the guest bridge only
  if (/^(0\.0\.0\.0|::|0:0:0:0:0:0:0:0)$/.test(m[1]!))
    throw new VolactError('USAGE', {
      detail: `--listen ${text}: the guest channel listens on an address of the guest bridge, never on every interface (e.g. 169.254.16.88:1689)`,
    });
  return { address: m[1]!, port };
}

/**
 * Puts each listen address on each guest bridge (`ip addr add ADDR/32 dev BRIDGE`, /128 for IPv6)
 * unless it is there already, so guests find the agent at the same link-local address on every
 * host. An operator who configures the address himself (netplan, ifupdown, systemd-networkd)
 * gives no --bridge. Wildcards (0.0.0.0, ::) are never added.
 */
export async function ensureOnBridges(addresses: string[], bridges: string[], ip: RunIp = runIp): Promise<string[]> {
  const added: string[] = [];
  for (const bridge of bridges) {
    let shown: string;
    try {
      shown = await ip(['-o', 'addr', 'show', 'dev', bridge]);
    } catch (err) {
      throw new VolactError('USAGE', { detail: `--bridge ${bridge}: ${(err as Error).message}` });
    }
    for (const address of addresses) {
      if (address === '0.0.0.0' || address === '::') continue;
      const family = isIP(address) === 6 ? 'inet6' : 'inet';
      if (shown.split('\n').some((l) => new RegExp(`\\s${family}\\s${address.replace(/\./g, '\\.')}/`).test(l)))
        continue;
      const prefix = family === 'inet6' ? 128 : 32;
      try {
        await ip(['addr', 'add', `${address}/${prefix}`, 'dev', bridge]);
      } catch (err) {
        throw new VolactError('USAGE', {
          detail: `cannot put ${address} on bridge ${bridge} (ip addr add ${address}/${prefix} dev ${bridge}: ${(err as Error).message}); run the agent as root (CAP_NET_ADMIN), or configure the address on the bridge yourself and start without --bridge`,
        });
      }
      added.push(`${address}/${prefix} on ${bridge}`);
    }
  }
  return added;
}

/**
 * The interfaces that hold any of `addresses`, from `ip -o addr show`: unlike the addresses Node
 * lists, this includes a bridge with no running VM yet (no carrier).
 */
export async function interfacesHolding(addresses: string[], ip: RunIp = runIp): Promise<Set<string>> {
  const names = new Set<string>();
  for (const line of (await ip(['-o', 'addr', 'show'])).split('\n')) {
    const words = line.trim().split(/\s+/);
    const name = words[1]?.split('@')[0];
    const address = words[3]?.split('/')[0];
    if (name && address && (words[2] === 'inet' || words[2] === 'inet6') && addresses.includes(address))
      names.add(name);
  }
  return names;
}

/**
 * The interfaces guests ask on: the bridges given, and every interface that holds a listen
 * address. Requests learnt on any other interface are not answered. An interface not known yet
 * (a bridge made after the start) is looked up again, at most every 5 seconds.
 */
export class GuestInterfaces {
  private known: Set<string>;
  private readAt: number | undefined;

  constructor(
    private readonly addresses: string[],
    private readonly bridges: string[],
    private readonly ip: RunIp = runIp,
    private readonly now: () => number = Date.now,
  ) {
    this.known = new Set(bridges);
  }

  async has(device: string): Promise<boolean> {
    if (this.known.has(device)) return true;
    if (this.readAt !== undefined && this.now() - this.readAt < 5_000) return false;
    this.readAt = this.now();
    const holding = await interfacesHolding(this.addresses, this.ip).catch(() => new Set<string>());
    this.known = new Set([...this.bridges, ...holding]);
    return this.known.has(device);
  }
}
