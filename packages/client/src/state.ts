import { chmodSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  VolactError,
  type Fingerprint,
  type HostAnswerBundle,
  type KeyClass,
  type VmAnswerBundle,
} from '@volact/protocol';
import { defaultStateDir, makeDir, readFileBounded, writeFileAtomic } from '@volact/io';

/** What a client keeps in its state directory (state.json). Version 1. */
export type ClientState = {
  v: 1;
  key: { text: string | null; partial: string; keyClass: KeyClass; edition: number; installedAt: number } | null;
  /** Start of the initial grace period: the first use of this state directory (the "installation"); reset only by -rearm. */
  graceStart: number;
  machine: { id: string; madeFor: Fingerprint; createdAt: number; identity: string | null };
  kms: { host: string | null; port: number | null };
  rearmsUsed: number;
  /** Highest host-signed time seen: the clock never runs back behind it. */
  highWater: number;
  /** Highest local time seen; reset to the host's time by each verified answer (the host vouched for the clock). */
  localHighWater: number;
  intervals: { renewalMinutes: number; retryMinutes: number };
  lastAttempt: { at: number; ok: boolean } | null;
  lastAnswer: { kind: string; count: number; required: number; at: number; host: string } | null;
  /** The authority, for MAK activation (added in 0.1; absent in older files). */
  authorityUrl: string | null;
  /** When the hardware was first found beyond tolerance of the MAK activation; null otherwise. */
  outOfToleranceSince: number | null;
  /**
   * Host discovery by DNS SRV: the lookup domain set with -skms-domain (null: the machine's
   * search domains), host caching (-skhc / -ckhc), the host that answered last, and the DNS
   * server asked for the SRV records (volact client dns-server; null: the system's resolver).
   */
  discovery: {
    domain: string | null;
    caching: boolean;
    lastHost: { host: string; port: number } | null;
    dnsServer: string | null;
  };
  /**
   * Directory membership (volact client directory): the servers (any replica), the suffix and
   * the machine account; its password is in directory.secret (0600), a CA in directory-ca.pem.
   */
  directory: DirectorySettings | null;
  /** -act-type: which channels a setup key may use (all, directory only, host only). */
  actType: ActType;
  /** Why the last attempt did not use directory activation; null when it did (or was not tried). */
  directoryNote: string | null;
  /** When the directory was last read successfully (the stored directory license must match it). */
  directoryReadAt: number | null;
  /**
   * The host certificate (and its issuer) of the last answer that verified, whatever its kind: it
   * names the editions of the host's group, so -dlv can name the edition before a grant. It is
   * verified against the pinned root again whenever it is read.
   */
  hostCertificate: { certificate: string; issuer: string; at: number } | null;
  /** The hypervisor agent a VM-key guest asks (volact client vm-agent); null: the link-local default. Absent in older files. */
  vmAgent: { host: string; port: number } | null;
};

export type ActType = 'all' | 'directory' | 'host';
export type DirectorySettings = { urls: string[]; base: string; bindDn: string; allowPlainBind: boolean; ca: boolean };

/** The last grant, as received (signed), plus the nonce it answered. */
export type StoredLicense = { v: 1; bundle: HostAnswerBundle; nonce: string; host: string };

/** A MAK activation, as received from the authority (signed), plus the nonce it answered. */
export type StoredMakLicense = { v: 1; mak: { grant: string; issuer: string }; nonce: string; authority: string };

/**
 * A MAK activation applied from a typed confirmation ID (offline): the public form of the
 * installation ID (base64url, without the MAC, so the file holds nothing that tests a key guess),
 * the confirmation and the issuer that signed it.
 */
export type StoredOfflineLicense = { v: 1; offline: { installation: string; confirmationId: string; issuer: string } };

/**
 * A directory activation: the object's attribute value as read (signed, re-verified on every
 * use), where it was found, the directory's ID it was checked against, and the 180 days.
 */
export type StoredDirectoryLicense = {
  v: 1;
  directory: {
    value: string;
    dn: string;
    name: string;
    directoryId: string;
    url: string;
    activatedAt: number;
    validUntil: number;
    machineId: string;
    fingerprintHash: string;
    base: string;
    bindDn: string;
  };
};

/**
 * An automatic VM activation: the hypervisor agent's grant (signed by the agent's key), its
 * hypervisor certificate and that certificate's issuer, as received; the nonce the grant
 * answered and the agent's address. Re-verified on every read, against the VM UUID read then.
 */
export type StoredVmLicense = {
  v: 1;
  vm: VmAnswerBundle;
  nonce: string;
  agent: string;
};

/** The publisher's signed catalog as fetched from the authority by `client trust --authority` (catalog.json). */
export type StoredCatalog = { v: 1; catalog: string; issuer: string; authority: string };

export type AnyLicense =
  StoredLicense | StoredMakLicense | StoredOfflineLicense | StoredDirectoryLicense | StoredVmLicense;

/** The client's state directory: --state, else VOLACT_STATE_DIR, else the platform's default. */
export function stateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? defaultStateDir('client', { platform: process.platform, env, uid: process.getuid?.() });
}

/**
 * The state directory, 0755: the product reads its licence unprivileged (readLicense), so the
 * signed, public files are readable by all and the secrets are 0600 files (key.secret,
 * directory.secret). One made 0700 by an older volact is opened up on its next write.
 */
export function ensureDir(dir: string): void {
  try {
    makeDir(dir, 0o755);
    if ((statSync(dir).mode & 0o777) === 0o700) chmodSync(dir, 0o755);
  } catch (err) {
    throw new VolactError('STATE_UNAVAILABLE', { dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
}

/** The most a state file may hold: far above what volact writes, so a device or a huge file is damage. */
const STATE_FILE_LIMIT = 16 * 1024 * 1024;

function readJsonFile<T>(path: string): T | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const { data, tooLarge } = readFileBounded(path, STATE_FILE_LIMIT);
    if (tooLarge) throw new Error(`it is larger than ${STATE_FILE_LIMIT} bytes`);
    return JSON.parse(data.toString('utf8')) as T;
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
  }
}

export function loadState(dir: string): ClientState | undefined {
  const file = join(dir, 'state.json');
  const s = readJsonFile<ClientState>(file);
  if (s === undefined) return undefined;
  const bad = (detail: string) => new VolactError('STATE_CORRUPT', { file, detail });
  if (!s || typeof s !== 'object') throw bad('not an object');
  if (s.v !== 1) throw bad(`unknown version ${String(s.v)}`);
  const m = s.machine;
  if (!m || typeof m.id !== 'string' || !m.madeFor || typeof m.madeFor.osId !== 'string')
    throw bad('no machine identity');
  if (typeof s.graceStart !== 'number' || typeof s.highWater !== 'number' || !s.kms || !s.intervals)
    throw bad('missing fields');
  // upgrade: files written before localHighWater existed start it at the host-signed mark
  if (typeof s.localHighWater !== 'number') s.localHighWater = s.highWater;
  s.authorityUrl ??= null;
  s.outOfToleranceSince ??= null;
  s.discovery ??= { domain: null, caching: true, lastHost: null, dnsServer: null };
  s.discovery.dnsServer ??= null;
  if (typeof s.discovery.dnsServer !== 'string' && s.discovery.dnsServer !== null)
    throw bad('the DNS server setting is damaged (set it again with volact client dns-server)');
  s.directory ??= null;
  if (s.actType !== 'directory' && s.actType !== 'host') s.actType = 'all';
  s.directoryNote ??= null;
  s.directoryReadAt ??= null;
  s.hostCertificate ??= null;
  s.vmAgent ??= null;
  // upgrade: files written before key.secret held the key's text inline (moved at the next save)
  if (s.key && !s.key.text) s.key.text = keyText(dir, s.key.installedAt);
  if (
    s.vmAgent !== null &&
    (typeof s.vmAgent !== 'object' || typeof s.vmAgent.host !== 'string' || typeof s.vmAgent.port !== 'number')
  )
    throw bad('the hypervisor agent setting is damaged (set it again with volact client vm-agent)');
  const d = s.directory;
  if (
    d !== null &&
    (typeof d !== 'object' ||
      !Array.isArray(d.urls) ||
      d.urls.length === 0 ||
      !d.urls.every((u) => typeof u === 'string') ||
      typeof d.base !== 'string' ||
      typeof d.bindDn !== 'string' ||
      typeof d.allowPlainBind !== 'boolean' ||
      typeof d.ca !== 'boolean')
  ) {
    throw bad('the directory settings are damaged (join again with volact client directory)');
  }
  return s;
}

/**
 * state.json is readable by all (readLicense needs the machine ID, the key's edition and the
 * grace clock), so the key's text, the one secret in the state, is kept in key.secret (0600):
 * written before state.json, removed after it when the key or its text goes.
 */
export function saveState(dir: string, state: ClientState): void {
  ensureDir(dir);
  const secret = join(dir, KEY_SECRET);
  const k = state.key;
  if (k?.text) writeOrFail(dir, secret, JSON.stringify({ v: 1, text: k.text, installedAt: k.installedAt }) + '\n');
  const shown = k ? { ...state, key: { ...k, text: null } } : state;
  writeOrFail(dir, join(dir, 'state.json'), JSON.stringify(shown, null, 2) + '\n', 0o644);
  // the key's text goes with the key (-upk) or when it is cleared (-cpky); a key.secret written for
  // another installation (a newer -ipk whose state.json was never written) is not this key's to remove
  if (!k?.text && !secretOfAnotherInstall(dir, k?.installedAt)) rmSync(secret, { force: true });
  openLicense(dir);
}

/** True when key.secret holds a key installed at another time than `installedAt`. */
function secretOfAnotherInstall(dir: string, installedAt: number | undefined): boolean {
  if (installedAt === undefined) return false;
  try {
    const k = JSON.parse(readFileSync(join(dir, KEY_SECRET), 'utf8').slice(0, 4096)) as Record<string, unknown>;
    return typeof k.installedAt === 'number' && k.installedAt !== installedAt;
  } catch {
    return false;
  }
}

/** A license.json an older volact wrote 0600 is made 0644 with the state, so readers see both or neither. */
function openLicense(dir: string): void {
  const file = join(dir, 'license.json');
  try {
    if ((statSync(file).mode & 0o044) === 0) chmodSync(file, 0o644);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new VolactError('STATE_UNAVAILABLE', { dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
}

const KEY_SECRET = 'key.secret';

/** The key's text from key.secret, for the key installed at `installedAt`; null for a reader who may not see it. */
function keyText(dir: string, installedAt: number): string | null {
  try {
    const k = JSON.parse(readFileSync(join(dir, KEY_SECRET), 'utf8').slice(0, 4096)) as Record<string, unknown>;
    return k.v === 1 && k.installedAt === installedAt && typeof k.text === 'string' ? k.text : null;
  } catch {
    return null;
  }
}

/** Writes a state file; a directory this user cannot write is STATE_UNAVAILABLE, not a crash. */
export function writeOrFail(dir: string, path: string, text: string, mode = 0o600): void {
  try {
    writeFileAtomic(path, text, mode);
  } catch (err) {
    throw new VolactError('STATE_UNAVAILABLE', { dir, reason: (err as NodeJS.ErrnoException).code ?? String(err) });
  }
}

/** The catalog fetched from the authority (catalog.json), unverified: readers verify it. */
export function loadCatalog(dir: string): StoredCatalog | undefined {
  const c = readJsonFile<StoredCatalog>(join(dir, 'catalog.json'));
  return c && c.v === 1 ? c : undefined;
}

export function saveCatalog(dir: string, catalog: StoredCatalog): void {
  ensureDir(dir);
  writeOrFail(dir, join(dir, 'catalog.json'), JSON.stringify(catalog) + '\n', 0o644);
}

/** license.json: undefined when there is none (no file, or the { v: 0 } that -upk and -ipk leave). */
export function loadLicense(dir: string): AnyLicense | undefined {
  const file = join(dir, 'license.json');
  const l = readJsonFile<AnyLicense | { v: 0 }>(file);
  if (l === undefined || (l && typeof l === 'object' && l.v === 0)) return undefined;
  if (!l || typeof l !== 'object' || l.v !== 1)
    throw new VolactError('STATE_CORRUPT', { file, detail: 'it is not a license of a version this volact reads' });
  return l;
}

export function saveLicense(dir: string, license: AnyLicense | null): void {
  ensureDir(dir);
  // signed and bound to this machine: public, so an unprivileged product can verify it
  writeOrFail(dir, join(dir, 'license.json'), JSON.stringify(license ?? { v: 0 }) + '\n', 0o644);
}
