import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  VolactError,
  defaults,
  publicKeyFromPem,
  rootFromKey,
  type Clock,
  type KeyClass,
  type LicenseState,
} from '@volact/protocol';
import { defaultStateDir, processClock } from '@volact/io';
import { editionNames } from './license-details.js';
import { licenseOf } from './stored-license.js';
import { ClientStore, type ClientContext } from './store.js';
import type { VmIdentitySource } from './vm-identity.js';

export type ReadLicenseOptions = {
  /**
   * The client's state directory. Default: the machine's (/var/lib/volact/client, macOS
   * /Library/Application Support/volact/client, Windows C:\ProgramData\volact\client), which must
   * belong to root (or the administrators) and be writable by nobody else.
   */
  stateDir?: string;
  /**
   * The publisher's root public key (PEM) built into the product: the state's pinned root.pub must
   * be this key, so a directory with a root of someone else's making proves nothing.
   */
  root?: string;
  /**
   * Environment overrides volact's own commands honour (VOLACT_FINGERPRINT_FILE,
   * VOLACT_VM_UUID_FILE, VOLACT_TEST_CLOCK under NODE_ENV=test). None by default: whoever starts
   * the product controls its environment, so a product passes none.
   */
  env?: NodeJS.ProcessEnv;
  /** The system clock unless given. */
  clock?: Clock;
  vmIdentity?: VmIdentitySource;
};

/** How the installed key activates (what `-dli` shows as its channel). */
export type LicenseChannel =
  'VOLUME_HOSTCLIENT' | 'VOLUME_MAK' | 'VIRTUAL_MACHINE_ACTIVATION' | 'VOLUME_HOST' | 'VOLUME_DATACENTER';

/** What a product needs to decide whether it runs: version 1 of this shape (fields are only ever added). */
export type LicenseStatus = {
  v: 1;
  state: LicenseState;
  /** Why, in a sentence for a person (not for parsing). */
  reason: string;
  /** When this state ends (ISO 8601): grace end or activation expiry; null when it does not end. */
  endsAt: string | null;
  /** The installed key's edition; code and name are null when no signed document names it yet. */
  edition: { number: number; code: string | null; name: string | null } | null;
  channel: LicenseChannel | null;
  /** The activation the state comes from (licensed, or in grace or notification after it ended); null when there is none. */
  activatedBy: 'host' | 'directory' | 'mak' | 'vm' | null;
  machineId: string | null;
  /** The time the state was judged at (ISO 8601): the later of the clock and the highest signed time seen. */
  checkedAt: string;
  /** Something root must record before this reading is final (a cloned image's new machine ID); null otherwise. */
  pending: string | null;
};

const channels: Record<KeyClass, LicenseChannel> = {
  setup: 'VOLUME_HOSTCLIENT',
  mak: 'VOLUME_MAK',
  vm: 'VIRTUAL_MACHINE_ACTIVATION',
  host: 'VOLUME_HOST',
  datacenter: 'VOLUME_DATACENTER',
};

const refuse = () => Promise.reject(new Error('readLicense never connects'));

/**
 * "Am I activated?" for the publisher's product: the client's state directory read and verified
 * as `volact slmgr -dli` does (signatures to the pinned root, this machine, this edition), with
 * nothing written: no state.json update, no event, no new machine ID (see ClientStore.peek).
 * Works for an unprivileged user. Throws VolactError only when the state cannot be read
 * (STATE_UNAVAILABLE) or is damaged (STATE_CORRUPT); every licence state is a value.
 */
export function readLicense(opts: ReadLicenseOptions = {}): LicenseStatus {
  const env = opts.env ?? {};
  const dir = opts.stateDir ?? defaultStateDir('client', { platform: process.platform, env: {}, uid: 0 });
  const clock = opts.clock ?? (opts.env ? processClock(env) : systemClock);
  if (opts.stateDir === undefined) checkMachineOwned(dir);
  checkReadable(dir);
  const ctx: ClientContext = { dir, clock, env, post: refuse, postAuthority: refuse, getAuthority: refuse };
  if (opts.vmIdentity) ctx.vmIdentity = opts.vmIdentity;
  const store = ClientStore.peek(ctx);
  if (!store) {
    return {
      v: 1,
      state: 'unlicensed',
      reason: `volact has not run on this machine (no state in ${dir})`,
      endsAt: null,
      edition: null,
      channel: null,
      activatedBy: null,
      machineId: null,
      checkedAt: new Date(clock.now()).toISOString(),
      pending: null,
    };
  }
  const s = store.state;
  if (opts.root !== undefined) checkRoot(store, opts.root, dir);
  const view = licenseOf(store);
  // state.json is not signed: a start of grace after the trusted time was not written by volact
  if (s.graceStart > view.trustedNow + defaults.maxClockSkewMs)
    throw new VolactError('STATE_CORRUPT', {
      file: join(dir, 'state.json'),
      detail: 'its start of the grace period lies in the future',
    });
  const read = store.stored();
  const activatedBy =
    view.state === 'unlicensed' || view.state === 'initialGrace'
      ? null
      : read.grant
        ? 'host'
        : read.mak
          ? 'mak'
          : read.directory
            ? 'directory'
            : read.vm
              ? 'vm'
              : null;
  const names = s.key ? editionNames(store, s.key.edition, signedEditions(read)) : null;
  return {
    v: 1,
    state: view.state,
    reason: store.renewalPending ? `${view.reason}; ${cloneNote}` : view.reason,
    endsAt: view.endsAt === null ? null : new Date(view.endsAt).toISOString(),
    edition: s.key ? { number: s.key.edition, code: names?.code ?? null, name: names?.name ?? null } : null,
    channel: s.key ? channels[s.key.keyClass] : null,
    activatedBy,
    machineId: store.renewalPending ? null : s.machine.id,
    checkedAt: new Date(view.trustedNow).toISOString(),
    pending: store.renewalPending ? cloneNote : null,
  };
}

const cloneNote =
  'this state was made on another OS installation (a cloned image): volact gives this machine a new ID, and no activation counts, until it next runs as root (volact slmgr -ato, or the agent)';

/** The editions the verified activation itself names (before the host certificate and catalogs). */
function signedEditions(read: ReturnType<ClientStore['stored']>) {
  return [
    read.grant?.cert.editions,
    read.directory?.object.editions,
    read.mak && 'mak' in read.mak.license
      ? [{ number: read.mak.grant.edition, code: read.mak.grant.editionCode, name: read.mak.grant.editionName }]
      : undefined,
    read.vm
      ? [{ number: read.vm.grant.edition, code: read.vm.grant.editionCode, name: read.vm.grant.editionName }]
      : undefined,
  ];
}

const systemClock: Clock = { now: () => Date.now() };

/**
 * The machine's state directory must be root's and writable by no one else, as volact makes it:
 * another user's directory at that path (made first, or a stale one) is not the machine's state.
 */
function checkMachineOwned(dir: string): void {
  if (process.platform === 'win32') return; // NTFS: ACLs, not modes (docs/operations.md, Windows)
  let st;
  try {
    st = statSync(dir);
  } catch {
    return; // no state yet: unlicensed
  }
  if (st.uid !== 0 || (st.mode & 0o022) !== 0)
    throw new VolactError('STATE_CORRUPT', {
      file: dir,
      detail: `it belongs to uid ${st.uid} with mode ${(st.mode & 0o777).toString(8)}; the machine's state is root's and writable by root only`,
    });
}

/** The product's own root must be the one the state pins. */
function checkRoot(store: ClientStore, pem: string, dir: string): void {
  const wanted = rootFromKey(publicKeyFromPem(pem)).kid;
  if (!store.roots().some((r) => r.kid === wanted))
    throw new VolactError('ROOT_MISMATCH', { path: join(dir, 'root.pub') });
}

/** A state directory this user cannot read is STATE_UNAVAILABLE (not "no state", nor a damaged license). */
function checkReadable(dir: string): void {
  for (const [path, mode] of [
    [dir, constants.X_OK],
    [join(dir, 'state.json'), constants.R_OK],
    [join(dir, 'license.json'), constants.R_OK],
  ] as const) {
    try {
      accessSync(path, mode);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      throw new VolactError('STATE_UNAVAILABLE', { dir, reason: code ?? String(err) });
    }
  }
}
