import { accessSync, constants } from 'node:fs';
import { VolactError, type OfflineBundle, type Root } from '@volact/protocol';
import { postJson, getJson, type Get, type Post } from '@volact/io';
import type { DirectoryTarget } from '@volact/directory';
import { activateFromHost } from './channels/host.js';
import { activateMak } from './channels/mak.js';
import { applyConfirmation, installationId } from './channels/offline.js';
import type { ActivationOutcome, ReadyState } from './channels/outcome.js';
import type { VmReadyState } from './channels/vm.js';
import { directoryTarget, setDirectory, type DirectoryJoin } from './directory-settings.js';
import { lookupDomains } from './discovery.js';
import { licenseDetails, type LicenseDetails } from './license-details.js';
import type { LicenseView } from './license-state.js';
import * as settings from './settings.js';
import type { ActType, ClientState } from './state.js';
import { licenseOf } from './stored-license.js';
import { ClientStore, readOfflineBundle, readRoots, type ClientContext } from './store.js';
import { fetchCatalog, pinRoot } from './trust.js';
import { postActivate } from './transport.js';
import { parseAgentAddress, type VmIdentitySource } from './vm-identity.js';

function canWrite(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export type { ActivationOutcome } from './channels/outcome.js';

export type ClientOptions = {
  dir: string;
  clock: ClientContext['clock'];
  env?: NodeJS.ProcessEnv;
  post?: typeof postActivate;
  postAuthority?: Post;
  getAuthority?: Get;
  vmIdentity?: VmIdentitySource;
};

/**
 * A client machine: its key, machine ID, pinned host, and its signed license. Each method is one
 * command: it opens the store once (ClientStore.open, which records what the machine observed,
 * and only when it observed something new); then verbs write what they change, and license()
 * and details() are pure views of the store.
 */
export class Client {
  readonly dir: string;
  private readonly ctx: ClientContext;

  constructor(opts: ClientOptions) {
    this.dir = opts.dir;
    this.ctx = {
      dir: opts.dir,
      clock: opts.clock,
      env: opts.env ?? process.env,
      post: opts.post ?? postActivate,
      postAuthority: opts.postAuthority ?? postJson,
      getAuthority: opts.getAuthority ?? getJson,
    };
    if (opts.vmIdentity) this.ctx.vmIdentity = opts.vmIdentity;
  }

  /** The state directory, read once for one command. */
  open(): ClientStore {
    return ClientStore.open(this.ctx);
  }

  roots(): Root[] {
    return readRoots(this.dir);
  }

  /** Pins the publisher's root (or an offline bundle's); with `authorityUrl`, also the authority for MAK activation. */
  trust(pemOrBundle: string, replace = false, authorityUrl?: string): string {
    return pinRoot(this.dir, pemOrBundle, replace, () => {
      if (authorityUrl !== undefined) this.setAuthority(authorityUrl);
    });
  }

  fetchCatalog(authority: string): Promise<number> {
    return fetchCatalog(this.ctx, authority);
  }

  offlineBundle(): OfflineBundle {
    return readOfflineBundle(this.dir);
  }

  installationId(): { installationId: string; type: 'mak' } {
    return installationId(this.open());
  }

  applyConfirmation(cidText: string): { edition: number; issuedAt: number } {
    return applyConfirmation(this.open(), cidText);
  }

  /** The authority URL MAK activation uses (http(s) only). */
  setAuthority(url: string): void {
    const checked = settings.checkAuthorityUrl(url);
    settings.setAuthority(this.open(), checked);
  }

  /** The state, created on first use, with what the machine observed recorded (see ClientStore.open). */
  state(): ClientState {
    return this.open().state;
  }

  installKey(typed: string): ClientState {
    const key = settings.clientKey(typed);
    return settings.installKey(this.open(), key);
  }

  uninstallKey(): void {
    settings.uninstallKey(this.open());
  }

  clearKeyText(): { cleared: boolean; reason: string } {
    return settings.clearKeyText(this.open());
  }

  setKms(spec: { host: string | null; port: number | null }): ClientState {
    return settings.setKms(this.open(), spec);
  }

  setLookupDomain(domain: string | null): ClientState {
    const name = settings.checkLookupDomain(domain);
    return settings.setLookupDomain(this.open(), name);
  }

  setDnsServer(spec: string | null): ClientState {
    const server = settings.checkDnsServer(spec);
    return settings.setDnsServer(this.open(), server);
  }

  setHostCaching(on: boolean): ClientState {
    return settings.setHostCaching(this.open(), on);
  }

  setIdentity(identity: string | null): ClientState {
    return settings.setIdentity(this.open(), identity);
  }

  rearm(): ClientState {
    return settings.rearm(this.open());
  }

  /** `volact client vm-agent`: HOST[:PORT] of the hypervisor agent a VM-key guest asks; null: the link-local default. */
  setVmAgent(spec: string | null): ClientState {
    const target = spec === null ? null : parseAgentAddress(spec);
    return settings.setVmAgent(this.open(), target);
  }

  setActType(t: ActType): ClientState {
    return settings.setActType(this.open(), t);
  }

  setDirectory(join: DirectoryJoin | null): ClientState {
    return setDirectory(this.open(), join);
  }

  directoryTarget(s: ClientState = this.state()): DirectoryTarget {
    return directoryTarget(this.dir, s);
  }

  /** The domains searched for SRV records: -skms-domain, else the machine's DNS search domains. */
  lookupDomains(s: ClientState): string[] {
    return lookupDomains(s, this.ctx.env);
  }

  /** The license state: a view of the store, which writes nothing beyond what opening records. */
  license(): LicenseView {
    return licenseOf(this.open());
  }

  /**
   * Everything `-dli`, `-dlv` and `-xpr` show, as a plain value: a view like license(). A user
   * who cannot write the state directory (a product running `-dli --json` unprivileged) gets the
   * same view through ClientStore.peek, which records nothing, instead of STATE_UNAVAILABLE.
   */
  details(): LicenseDetails {
    const store = canWrite(this.dir) ? this.open() : (ClientStore.peek(this.ctx) ?? this.open());
    return licenseDetails(store);
  }

  /**
   * `-ato`. A MAK goes to the authority, a VM key to the hypervisor agent. A setup key tries directory activation first (the guide's
   * primary method), then an activation host, as -act-type allows; the directory channel, and
   * the LDAP client with it, is loaded only for a machine that is joined to a directory.
   */
  async activate(opts: { startup?: boolean } = {}): Promise<ActivationOutcome> {
    const store = this.open();
    const s = store.state;
    if (!s.key) throw new VolactError('KEY_NOT_INSTALLED');
    if (s.key.keyClass === 'mak') return activateMak(store);
    if (!s.key.text) throw new VolactError('KEY_NOT_INSTALLED');
    if (s.key.keyClass === 'vm') {
      const { activateFromAgent } = await import('./channels/vm.js');
      return activateFromAgent(store, s as VmReadyState);
    }
    // -ipk refuses these; a state file written by hand could still hold one
    if (s.key.keyClass !== 'setup')
      throw new VolactError(s.key.keyClass === 'host' ? 'KEY_HOST_ON_CLIENT' : 'KEY_DATACENTER_ON_CLIENT');
    const ready = s as ReadyState;
    let directoryNote: string | undefined;
    if (s.actType !== 'host') {
      if (!s.directory) {
        if (s.actType === 'directory') throw new VolactError('DIRECTORY_NOT_CONFIGURED');
      } else {
        const { activateFromDirectory } = await import('./channels/directory.js');
        const tried = await activateFromDirectory(store, ready, opts.startup ?? false);
        if (tried.ok) return tried.outcome;
        if (!tried.fallBack || s.actType === 'directory') throw tried.error;
        directoryNote = `${tried.error.code}: ${tried.error.message}`;
      }
    }
    try {
      const outcome = await activateFromHost(store, ready);
      return directoryNote ? { ...outcome, directoryNote } : outcome;
    } catch (err) {
      if (directoryNote && err instanceof VolactError && err.code === 'NO_HOST_FOUND')
        throw new VolactError('NO_HOST_FOUND', {
          detail: `${err.params.detail}; directory activation was not used (${directoryNote})`,
        });
      throw err;
    }
  }
}
