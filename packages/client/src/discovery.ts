import { Resolver } from 'node:dns/promises';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { VolactError } from '@volact/protocol';
import type { ClientState } from './state.js';
import type { HostTarget } from './transport.js';

/** One SRV record of `_volact._tcp.<domain>`. */
export type SrvTarget = { name: string; port: number; priority: number; weight: number };

export const SRV_PREFIX = '_volact._tcp.';

/**
 * RFC 2782 order: lower priority first; within one priority a weighted random order (each pick
 * in proportion to its weight among those not yet picked), uniform when all weights are 0.
 * `random` returns [0, 1); tests pass a seeded one.
 */
export function orderSrv(records: readonly SrvTarget[], random: () => number = Math.random): SrvTarget[] {
  const priorities = [...new Set(records.map((r) => r.priority))].sort((a, b) => a - b);
  const out: SrvTarget[] = [];
  for (const p of priorities) {
    const rest = records.filter((r) => r.priority === p);
    while (rest.length) {
      const total = rest.reduce((sum, r) => sum + r.weight, 0);
      let index: number;
      if (total === 0) {
        index = Math.min(rest.length - 1, Math.floor(random() * rest.length));
      } else {
        // RFC 2782 as written: weight-0 records first, a random integer in [0, total], the first
        // record whose running sum reaches it (so a weight-0 record keeps a small chance)
        rest.sort((a, b) => Number(a.weight !== 0) - Number(b.weight !== 0));
        const pick = Math.min(total, Math.floor(random() * (total + 1)));
        let running = 0;
        index = rest.findIndex((r) => (running += r.weight) >= pick);
      }
      out.push(rest.splice(index, 1)[0]!);
    }
  }
  return out;
}

/** The machine's DNS search domains: `search` and `domain` lines of resolv.conf, in order. */
export function searchDomains(resolvConf: string): string[] {
  const out: string[] = [];
  for (const line of resolvConf.split('\n')) {
    const m = /^\s*(search|domain)\s+(.+)$/.exec(line.replace(/[#;].*/, ''));
    if (m)
      for (const d of m[2]!.trim().split(/\s+/))
        if (d && d !== '.' && !out.includes(d.replace(/\.$/, ''))) out.push(d.replace(/\.$/, ''));
  }
  return out;
}

export function readSearchDomains(env: NodeJS.ProcessEnv): string[] {
  try {
    return searchDomains(readFileSync(env.VOLACT_RESOLV_CONF ?? '/etc/resolv.conf', 'utf8'));
  } catch {
    return [];
  }
}

/**
 * `volact client dns-server`: IPV4[:PORT], IPV6 or [IPV6][:PORT], in the form Node's resolver
 * takes (port 53 is left out). A name is refused: the lookups need an address to ask before any
 * name resolves.
 */
export function parseDnsServer(spec: string): string {
  const bracket = /^\[([^\]]+)\](?::(\d*))?$/.exec(spec);
  const v4 = /^([^:]+):(\d*)$/.exec(spec);
  const [host, portText] = bracket ? [bracket[1]!, bracket[2]] : v4 ? [v4[1]!, v4[2]] : [spec, undefined];
  const family = isIP(host);
  if (family === 0 || (bracket ? family !== 6 : v4 && family !== 4) || portText === '') {
    throw new VolactError('USAGE', {
      detail: `the DNS server ${spec} is not an IP address with an optional port: give IPV4[:PORT] or [IPV6]:PORT, e.g. 10.0.0.53 or [fd00::53]:5353 (not a name: it must be reachable before names resolve)`,
    });
  }
  if (portText === undefined || portText === '53') return host;
  const port = Number(portText);
  if (portText.length > 5 || port < 1 || port > 65535)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'DNS server port', min: 1, max: 65535, value: portText });
  return family === 6 ? `[${host}]:${port}` : `${host}:${port}`;
}

function resolverFor(server: string | undefined): Resolver {
  const resolver = new Resolver({ timeout: 2000, tries: 2 });
  if (server) resolver.setServers([server]);
  return resolver;
}

/** Looks up the SRV set of one domain, through the given DNS server (host:port) or the system's. */
export async function lookupSrv(domain: string, server: string | undefined): Promise<SrvTarget[]> {
  const resolver = resolverFor(server);
  return resolver.resolveSrv(SRV_PREFIX + domain.replace(/\.$/, ''));
}

/**
 * With a given DNS server, a chosen target's address is looked up there too (the system resolver
 * would not know names only that server has); without one the system resolves it on connect.
 */
export async function addressOf(name: string, server: string | undefined): Promise<string> {
  if (!server) return name;
  const resolver = resolverFor(server);
  return (
    (await resolver.resolve4(name).catch(() => [] as string[]))[0] ??
    (await resolver.resolve6(name).catch(() => [] as string[]))[0] ??
    name
  );
}

/** At most this many hosts are tried from one domain: a huge SRV set cannot stall a client. */
export const MAX_TARGETS = 16;

export type Discovered = { targets: (HostTarget & { from: string; name: string })[]; tried: string[] };

/** Finds hosts in each lookup domain in turn; records why a domain gave none. */
export async function discover(
  domains: readonly string[],
  server: string | undefined,
  random?: () => number,
  lookup = lookupSrv,
  resolve = addressOf,
): Promise<Discovered> {
  const targets: Discovered['targets'] = [];
  const tried: string[] = [];
  for (const domain of domains) {
    try {
      // a target of "." means "no service here" (RFC 2782), and port 0 is no port: both dropped
      const records = (await lookup(domain, server)).filter((r) => r.name !== '' && r.name !== '.' && r.port > 0);
      if (records.length === 0) tried.push(`${SRV_PREFIX}${domain}: no records`);
      for (const r of orderSrv(records, random).slice(0, MAX_TARGETS)) {
        const name = r.name.replace(/\.$/, '');
        targets.push({ host: await resolve(name, server), port: r.port, from: domain, name });
      }
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      tried.push(`${SRV_PREFIX}${domain}: ${code === 'ENOTFOUND' || code === 'ENODATA' ? 'no such records' : code}`);
    }
  }
  return { targets, tried };
}

/** The domains searched for SRV records: -skms-domain, else the machine's DNS search domains. */
export function lookupDomains(s: ClientState, env: NodeJS.ProcessEnv): string[] {
  return s.discovery.domain ? [s.discovery.domain] : readSearchDomains(env);
}

/** The DNS server for SRV lookups: VOLACT_DNS_SERVER (tests), else the stored setting, else none (the system's). */
export function dnsServerOf(
  s: ClientState,
  env: NodeJS.ProcessEnv,
): { server: string | null; from: 'VOLACT_DNS_SERVER' | 'setting' | null } {
  if (env.VOLACT_DNS_SERVER) return { server: env.VOLACT_DNS_SERVER, from: 'VOLACT_DNS_SERVER' };
  return s.discovery.dnsServer ? { server: s.discovery.dnsServer, from: 'setting' } : { server: null, from: null };
}
