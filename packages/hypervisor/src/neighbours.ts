import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { isIPv4 } from 'node:net';
import { normaliseMac } from './inventory.js';

/**
 * Where a request came from: the neighbour-table entry for its source address (complete only),
 * with the interface it was learnt on. The guest channel serves only entries on a guest bridge.
 */
export type Neighbour = { mac: string; device: string };
export type NeighbourLookup = (address: string) => Promise<Neighbour | undefined>;

/** A request's source address as the neighbour table names it: IPv4-mapped IPv6 back to IPv4. */
export function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

/** ATF_COM in /proc/net/arp's Flags column: the entry is complete (linux/if_arp.h). */
const ATF_COM = 0x2;

/**
 * The entry of `address` in /proc/net/arp text (IPv4; one table per network namespace), with its
 * Device column. Only a complete entry counts: an incomplete one holds 00:00:00:00:00:00.
 */
export function neighbourFromProcArp(text: string, address: string): Neighbour | undefined {
  for (const line of text.split('\n').slice(1)) {
    const [ip, , flags, hw, , device] = line.trim().split(/\s+/);
    if (ip !== address || !hw || !flags || !device) continue;
    if ((Number.parseInt(flags, 16) & ATF_COM) === 0) continue;
    const mac = normaliseMac(hw);
    if (mac && mac !== '00:00:00:00:00:00') return { mac, device };
  }
  return undefined;
}

/** States of `ip neigh` whose link-layer address can be trusted (not INCOMPLETE or FAILED). */
const usable = new Set(['REACHABLE', 'STALE', 'DELAY', 'PROBE', 'PERMANENT', 'NOARP']);

/**
 * The entry of `address` in `ip neigh show` output: `ADDR dev IF lladdr MAC [router] STATE`.
 * With `device`, only an entry on that interface (an IPv6 link-local address names its link).
 */
export function neighbourFromIpNeigh(text: string, address: string, device?: string): Neighbour | undefined {
  for (const line of text.split('\n')) {
    const words = line.trim().split(/\s+/);
    if (words[0]?.toLowerCase() !== address.toLowerCase()) continue;
    const at = words.indexOf('lladdr');
    const dev = words[words.indexOf('dev') + 1];
    const state = words.at(-1) ?? '';
    if (at < 0 || !dev || words.indexOf('dev') < 0 || !usable.has(state)) continue;
    if (device !== undefined && dev !== device) continue;
    const mac = normaliseMac(words[at + 1] ?? '');
    if (mac) return { mac, device: dev };
  }
  return undefined;
}

function ipNeigh(family: '-4' | '-6', address: string): Promise<string> {
  return new Promise((resolve) =>
    execFile('ip', [family, 'neigh', 'show', 'to', address], { timeout: 2_000 }, (err, stdout) =>
      resolve(err ? '' : stdout),
    ),
  );
}

/**
 * The system's neighbour table in this process's network namespace: /proc/net/arp for IPv4
 * (`ip -4 neigh` if it cannot be read), `ip -6 neigh` for IPv6. Unknown: undefined.
 */
export const systemNeighbours: NeighbourLookup = async (raw) => {
  const address = plainAddress(raw);
  if (isIPv4(address)) {
    try {
      return neighbourFromProcArp(await readFile('/proc/net/arp', 'utf8'), address);
    } catch {
      return neighbourFromIpNeigh(await ipNeigh('-4', address), address);
    }
  }
  // a zone (fe80::1%br0) is not part of the table's address column, but names the link the
  // request came on: the same link-local address may exist on another link
  const [bare, zone] = address.split('%') as [string, string | undefined];
  return neighbourFromIpNeigh(await ipNeigh('-6', bare), bare, zone);
};
