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
