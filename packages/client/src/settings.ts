import { VolactError, decodeKey, defaults, partialKey, type DecodedKey } from '@volact/protocol';
import { parseDnsServer } from './discovery.js';
import { newMachine, type ClientStore } from './store.js';
import type { ActType, ClientState } from './state.js';

/** `-ipk`, before anything is written: checks the key (typos first) and refuses host keys. */
export function clientKey(typed: string): DecodedKey {
  const key = decodeKey(typed);
  if (key.keyClass === 'host') throw new VolactError('KEY_HOST_ON_CLIENT');
  if (key.keyClass === 'datacenter') throw new VolactError('KEY_DATACENTER_ON_CLIENT');
  return key;
}

/** `-ipk`: installs a checked key; the license of the key before goes. */
export function installKey(store: ClientStore, key: DecodedKey): ClientState {
  const s = store.state;
  // a VM-key guest renews daily and retries hourly (the agent's grant then sets the renewal)
  if (key.keyClass === 'vm' || s.key?.keyClass === 'vm')
    s.intervals =
      key.keyClass === 'vm'
        ? { renewalMinutes: defaults.vmRenewalMinutes, retryMinutes: defaults.vmRetryMinutes }
        : { renewalMinutes: defaults.renewalMinutes, retryMinutes: defaults.retryMinutes };
  s.key = {
    text: key.canonical,
    partial: partialKey(key.canonical),
    keyClass: key.keyClass,
    edition: key.ref,
    installedAt: store.now(),
  };
  store.save();
  store.saveLicense(null);
  return s;
}

/** `-upk`: the machine becomes unlicensed. */
export function uninstallKey(store: ClientStore): void {
  const s = store.state;
  if (!s.key) throw new VolactError('KEY_NOT_INSTALLED');
  s.key = null;
  store.save();
  store.saveLicense(null);
}

/** `-cpky`: clears a secret key's text; a setup or VM key is public and is kept because renewals send it. */
export function clearKeyText(store: ClientStore): { cleared: boolean; reason: string } {
  const s = store.state;
  if (!s.key) throw new VolactError('KEY_NOT_INSTALLED');
  if (s.key.keyClass === 'setup' || s.key.keyClass === 'vm')
    return {
      cleared: false,
      reason: `a ${s.key.keyClass} key is public and renewals send it; nothing secret to clear`,
    };
  s.key.text = null;
  store.save();
  return { cleared: true, reason: 'the key text is cleared; the license stays' };
}

/** `-skms` / `-ckms`: the pinned activation host. */
export function setKms(store: ClientStore, spec: { host: string | null; port: number | null }): ClientState {
  store.state.kms = spec;
  store.save();
  return store.state;
}

/** A lookup domain as typed, checked and in its canonical form (lower case, no final dot). */
export function checkLookupDomain(domain: string | null): string | null {
  const name = domain?.replace(/\.$/, '').toLowerCase() ?? null;
  if (
    name !== null &&
    !/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(name)
  ) {
    throw new VolactError('USAGE', { detail: `${domain} is not a DNS domain name` });
  }
  return name;
}

/** `-skms-domain` / `-ckms-domain`: the domain searched for SRV records (null: the search domains). */
export function setLookupDomain(store: ClientStore, name: string | null): ClientState {
  const s = store.state;
  s.discovery = { ...s.discovery, domain: name, lastHost: null };
  store.save();
  return s;
}

/**
 * `volact client dns-server`: the DNS server asked for the SRV records and the hosts' addresses
 * (split-horizon and lab zones the system resolver does not see); null goes back to the system's.
 */
export function setDnsServer(store: ClientStore, server: string | null): ClientState {
  const s = store.state;
  // a host found through another server's view of DNS is not kept
  s.discovery = {
    ...s.discovery,
    dnsServer: server,
    lastHost: server === s.discovery.dnsServer ? s.discovery.lastHost : null,
  };
  store.save();
  return s;
}

/** Checks a DNS server setting before the store is opened, as before: a bad value changes nothing. */
export function checkDnsServer(spec: string | null): string | null {
  return spec === null ? null : parseDnsServer(spec);
}

/** `-skhc` / `-ckhc`: keep using the host that answered last (default), or discover every time. */
export function setHostCaching(store: ClientStore, on: boolean): ClientState {
  const s = store.state;
  s.discovery = { ...s.discovery, caching: on, lastHost: on ? s.discovery.lastHost : null };
  store.save();
  return s;
}

/** `volact client identity`: a stable machine ID for a VDI pool member or container (null: the OS identity). */
export function setIdentity(store: ClientStore, identity: string | null): ClientState {
  const s = store.state;
  s.machine = newMachine(
    { ...store.osFingerprint, ...(identity ? { osId: `identity:${identity}` } : {}) },
    identity,
    store.now(),
  );
  store.save();
  store.saveLicense(null);
  return s;
}

/** `-rearm`: new machine ID and a fresh initial grace; limited (5 by default). */
export function rearm(store: ClientStore): ClientState {
  const s = store.state;
  if (s.rearmsUsed >= defaults.rearmLimit) throw new VolactError('REARM_LIMIT', { limit: defaults.rearmLimit });
  s.rearmsUsed += 1;
  s.machine = newMachine(s.machine.madeFor, s.machine.identity, store.now());
  s.graceStart = Math.max(store.now(), s.highWater, s.localHighWater);
  s.lastAttempt = null;
  store.save();
  store.saveLicense(null);
  return s;
}

/** `-act-type`: all channels (0), directory only (1), host only (2). */
export function setActType(store: ClientStore, t: ActType): ClientState {
  store.state.actType = t;
  store.save();
  return store.state;
}

/** The authority URL MAK activation uses (http(s) only); checked before the store is opened. */
export function checkAuthorityUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new VolactError('USAGE', { detail: `${url} is not a URL` });
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new VolactError('USAGE', { detail: 'the authority URL must be http(s)' });
  return parsed.toString();
}

export function setAuthority(store: ClientStore, url: string): void {
  store.state.authorityUrl = url;
  store.save();
}

/** `volact client vm-agent`: the hypervisor agent a VM-key guest asks; null goes back to the link-local default. */
export function setVmAgent(store: ClientStore, target: { host: string; port: number } | null): ClientState {
  store.state.vmAgent = target;
  store.save();
  return store.state;
}
