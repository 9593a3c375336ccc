import { BlockList, isIP } from 'node:net';
import { VolactError } from '@volact/protocol';

/** Which client addresses a host serves (default: loopback and private ranges). */
export function networkFilter(cidrs: readonly string[]): (address: string | undefined) => boolean {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [net, bitsText] = cidr.split('/');
    const family = isIP(net ?? '');
    const bits = Number(bitsText);
    const max = family === 6 ? 128 : 32;
    if (!family || !Number.isInteger(bits) || bits < 0 || bits > max || String(bits) !== bitsText) {
      throw new VolactError('USAGE', {
        detail: `${cidr} is not a network in CIDR form (like 192.168.0.0/16 or fc00::/7)`,
      });
    }
    list.addSubnet(net!, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  const cache = new Map<string, boolean>();
  return (address) => {
    if (!address) return false;
    let ok = cache.get(address);
    if (ok === undefined) {
      const mapped = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
      ok = list.check(mapped, isIP(mapped) === 6 ? 'ipv6' : 'ipv4');
      if (cache.size > 10_000) cache.clear();
      cache.set(address, ok);
    }
    return ok;
  };
}
