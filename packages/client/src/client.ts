import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import {
  VolactError,
  decodeKey,
  defaults,
  fromErrorBody,
  hashedFingerprint,
  identityHash,
  makActivationAnswerSchema,
  parseInstallationId,
  parsePublicForm,
  verifyMakGrant,
  parseJws,
  partialKey,
  publicKeyFromPem,
  rootFromKey,
  sameMachine,
  sameHardware,
  makeInstallationId,
  machineRef,
  makIdOf,
  parseOfflineBundle,
  offlineIssuer,
  catalogAnswerSchema,
  verifyCatalog,
  verifyOfflineConfirmation,
  verifyHostAnswer,
  verifyHostCert,
  verifyDirectoryObject,
  type VerifiedDirectoryObject,
  type OfflineBundle,
  type ActivateRequest,
  type Clock,
  type Fingerprint,
  type Grant,
  type HostAnswerBundle,
  type HostCert,
  type MakActivationRequest,
  type MakGrant,
  type Root,
} from '@volact/protocol';
import { appendEvent } from './events.js';
import { readFingerprint } from './fingerprint.js';
import { licenseState, type LicenseView } from './license-state.js';
import { licenseProblem, problemReason, type LicenseProblem } from './license-problem.js';
import { ensureDir, loadCatalog, loadLicense, loadState, saveCatalog, saveLicense, saveState, writeOrFail, type ActType, type ClientState, type StoredDirectoryLicense, type StoredLicense, type StoredMakLicense, type StoredOfflineLicense } from './state.js';
import { checkLdapUrl, connectDirectory, listObjects, readDirectoryId, type DirectoryTarget } from '@volact/directory';
import { callAuthority, getFromAuthority, getJson, postJson, type Get, type Post } from '@volact/server-kit';
import { postActivate, targetLabel, type HostTarget } from './transport.js';
import { discover, parseDnsServer, readSearchDomains } from './discovery.js';

export type ActivationOutcome = (
  | { kind: 'activated' | 'renewed'; grant: Grant; host: string }
  | { kind: 'directoryActivated' | 'directoryRenewed'; name: string; dn: string; validUntil: number; host: string }
  | { kind: 'makActivated'; makGrant: MakGrant; host: string }
  | { kind: 'countInsufficient'; count: number; required: number; retryMinutes: number; host: string }
  | { kind: 'refused'; code: 'EDITION_NOT_COVERED' | 'CLOCK_SKEW'; count: number; host: string; detail: Record<string, string | number> }
) & {
  /** Why directory activation was not used, when a host was used after it. */
  directoryNote?: string;
};

/** What a try of the directory gave: an activation, or why not (and whether a host may be tried). */
type DirectoryTry = { ok: true; outcome: ActivationOutcome } | { ok: false; error: VolactError; fallBack: boolean };

/** license.json as read: at most one verified activation, or the problem with the file. */
type StoredRead = {
  grant: { grant: Grant; license: StoredLicense; cert: HostCert } | null;
  mak: { grant: MakGrant; license: StoredMakLicense | StoredOfflineLicense } | null;
  directory: { object: VerifiedDirectoryObject; license: StoredDirectoryLicense } | null;
  problem: LicenseProblem | null;
};

/** Errors of this machine, not of a host: they stop discovery instead of moving to the next host. */
const localErrors = new Set<string>(['KEY_NOT_INSTALLED', 'ROOT_NOT_PINNED', 'STATE_CORRUPT', 'STATE_UNAVAILABLE', 'FAKE_CLOCK_REFUSED']);

export type ClientOptions = { dir: string; clock: Clock; env?: NodeJS.ProcessEnv; post?: typeof postActivate; postAuthority?: Post; getAuthority?: Get };

/** A client machine: its key, machine ID, pinned host, and its signed license. */
export class Client {
  readonly dir: string;
  private readonly clock: Clock;
  private readonly env: NodeJS.ProcessEnv;
  private readonly post: typeof postActivate;
  private readonly postAuthority: Post;
  private readonly getAuthority: Get;

  constructor(opts: ClientOptions) {
    this.dir = opts.dir;
    this.clock = opts.clock;
    this.env = opts.env ?? process.env;
    this.post = opts.post ?? postActivate;
    this.postAuthority = opts.postAuthority ?? postJson;
    this.getAuthority = opts.getAuthority ?? getJson;
  }

  roots(): Root[] {
    const path = join(this.dir, 'root.pub');
    if (!existsSync(path)) throw new VolactError('ROOT_NOT_PINNED', { dir: this.dir });
    try {
      return [rootFromKey(publicKeyFromPem(readFileSync(path, 'utf8')))];
    } catch (err) {
      throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
    }
  }

  /**
   * Pins the publisher's root public key (what every answer must chain to); replacing one must be
   * asked for. An offline bundle pins its root and keeps the offline issuer and catalog, once
   * they verify against that root, for offline activation (-dti / -atp).
   */
  trust(pemOrBundle: string, replace = false, authorityUrl?: string): string {
    const bundle = parseOfflineBundle(pemOrBundle);
    const pem = bundle ? bundle.root : pemOrBundle;
    const root = rootFromKey(publicKeyFromPem(pem));
    const path = join(this.dir, 'root.pub');
    if (!replace && existsSync(path) && this.roots()[0]!.kid !== root.kid) throw new VolactError('ROOT_MISMATCH', { path });
    if (bundle) {
      offlineIssuer(bundle.offlineIssuer, [root]);
      verifyCatalog(bundle.catalog, bundle.catalogIssuer, [root]);
    }
    if (authorityUrl !== undefined) this.setAuthority(authorityUrl);
    ensureDir(this.dir);
    writeOrFail(this.dir, join(this.dir, 'root.pub'), pem, 0o644);
    if (bundle) writeOrFail(this.dir, join(this.dir, 'offline.json'), JSON.stringify(bundle, null, 2) + '\n', 0o644);
    return root.kid;
  }

  /**
   * Fetches the publisher's signed catalog from the authority (GET /v1/catalog) and keeps it
   * (catalog.json) once it verifies against the pinned root, so -dlv names the installed
   * edition before any activation. Returns the catalog's serial.
   */
  async fetchCatalog(authority: string): Promise<number> {
    const answer = await getFromAuthority(authority, '/v1/catalog', catalogAnswerSchema, this.getAuthority);
    const catalog = verifyCatalog(answer.catalog, answer.issuer, this.roots());
    saveCatalog(this.dir, { v: 1, catalog: answer.catalog, issuer: answer.issuer, authority });
    return catalog.serial;
  }

  /** The offline bundle installed with client trust (root, offline issuer, catalog). */
  offlineBundle(): OfflineBundle {
    const path = join(this.dir, 'offline.json');
    if (!existsSync(path)) throw new VolactError('OFFLINE_BUNDLE_MISSING', { dir: this.dir });
    const bundle = parseOfflineBundle(readFileSync(path, 'utf8'));
    if (!bundle) throw new VolactError('STATE_CORRUPT', { file: path, detail: 'not an offline bundle' });
    return bundle;
  }

  /** `-dti` with a MAK: the installation ID of this machine and key (no secret in clear). */
  installationId(): { installationId: string; type: 'mak' } {
    const s = this.state();
    if (!s.key?.text) throw new VolactError('KEY_NOT_INSTALLED');
    if (s.key.keyClass !== 'mak') throw new VolactError('KEY_WRONG_CLASS', { actual: s.key.keyClass, expected: 'MAK' });
    const iid = makeInstallationId(decodeKey(s.key.text), { type: 'mak', machineId: s.machine.id, parts: hashedFingerprint(this.fingerprint()) });
    return { installationId: iid.text, type: 'mak' };
  }

  /** `-atp CID`: applies a confirmation ID typed in, verified offline against the pinned root. */
  applyConfirmation(cidText: string): { edition: number; issuedAt: number } {
    const s = this.state();
    const { installationId } = this.installationId();
    const iid = parseInstallationId(installationId);
    const bundle = this.offlineBundle();
    const { cid } = verifyOfflineConfirmation(cidText, iid, [bundle.offlineIssuer], this.roots());
    saveLicense(this.dir, { v: 1, offline: { installation: iid.publicForm.toString('base64url'), confirmationId: cid.text, issuer: bundle.offlineIssuer } });
    s.outOfToleranceSince = null;
    s.lastAttempt = { at: this.clock.now(), ok: true };
    saveState(this.dir, s);
    appendEvent(this.dir, { event: 12289, at: this.clock.now(), machineId: s.machine.id, host: 'offline', outcome: 'makGrant', channel: 'offline' });
    return { edition: iid.key.ref, issuedAt: cid.issuedAt };
  }

  /** The authority URL MAK activation uses (http(s) only). */
  setAuthority(url: string): void {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new VolactError('USAGE', { detail: `${url} is not a URL` });
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') throw new VolactError('USAGE', { detail: 'the authority URL must be http(s)' });
    const s = this.state();
    s.authorityUrl = parsed.toString();
    saveState(this.dir, s);
  }

  private fingerprint(): Fingerprint {
    const fp = readFingerprint(this.env);
    const identity = this.load()?.machine.identity ?? null;
    return identity ? { ...fp, osId: `identity:${identity}` } : fp;
  }

  private newMachine(fp: Fingerprint, identity: string | null): ClientState['machine'] {
    // An operator-set identity (VDI pool member, container) gives the same ID on every rebuild.
    const id = identity ? 'M' + createHash('sha256').update(`volact-machine/${identity}`).digest('base64url').slice(0, 22) : randomUUID();
    return { id, madeFor: fp, createdAt: this.clock.now(), identity };
  }

  private load(): ClientState | undefined {
    return loadState(this.dir);
  }

  /**
   * Loads the state, creating it on first use, and renews the machine ID when this is not the
   * machine the ID was made on (a cloned image), so clones count as the machines they are.
   */
  state(): ClientState {
    const now = this.clock.now();
    let s = this.load();
    const fp = this.fingerprint();
    if (!s) {
      s = {
        v: 1,
        key: null,
        graceStart: now,
        machine: this.newMachine(fp, null),
        kms: { host: null, port: null },
        rearmsUsed: 0,
        highWater: 0,
        localHighWater: now,
        intervals: { renewalMinutes: defaults.renewalMinutes, retryMinutes: defaults.retryMinutes },
        lastAttempt: null,
        lastAnswer: null,
        authorityUrl: null,
        outOfToleranceSince: null,
        discovery: { domain: null, caching: true, lastHost: null, dnsServer: null },
        directory: null,
        actType: 'all',
        directoryNote: null,
        directoryReadAt: null,
        hostCertificate: null,
      };
      saveState(this.dir, s);
      return s;
    }
    // Remember local time as it passes, so turning the clock back does not reopen the initial grace.
    let dirty = false;
    if (now > s.localHighWater + 60_000) {
      s.localHighWater = now;
      dirty = true;
    }
    if (s.lastAttempt && s.lastAttempt.at > now) {
      // the clock was set back since: the attempt counts as made now, so retries are not stalled
      s.lastAttempt = { ...s.lastAttempt, at: now };
      dirty = true;
    }
    const same = sameMachine(s.machine.madeFor, fp);
    if (same.clone) {
      // Another OS identity than the one the ID was made on: a cloned image, so a new machine ID.
      // (Hardware changes keep the ID; a MAK activation judges them against its own record.)
      const old = s.machine.id;
      s.machine = this.newMachine(fp, s.machine.identity);
      s.lastAttempt = null;
      appendEvent(this.dir, { event: 'machineIdRenewed', at: now, oldMachineId: old, machineId: s.machine.id, reason: 'the OS machine identity changed (cloned image)' });
      saveState(this.dir, s);
    } else if (same.changed.length || dirty) {
      s.machine.madeFor = fp;
      saveState(this.dir, s);
    }
    return s;
  }

  /** `-ipk`: checks the key (typos first), refuses host keys, installs. */
  installKey(typed: string): ClientState {
    const key = decodeKey(typed);
    if (key.keyClass === 'host') throw new VolactError('KEY_HOST_ON_CLIENT');
    const s = this.state();
    s.key = { text: key.canonical, partial: partialKey(key.canonical), keyClass: key.keyClass, edition: key.ref, installedAt: this.clock.now() };
    saveState(this.dir, s);
    saveLicense(this.dir, null);
    return s;
  }

  /** `-upk`: the machine becomes unlicensed. */
  uninstallKey(): void {
    const s = this.state();
    if (!s.key) throw new VolactError('KEY_NOT_INSTALLED');
    s.key = null;
    saveState(this.dir, s);
    saveLicense(this.dir, null);
  }

  /** `-cpky`: clears a secret key's text; a setup key is public and is kept because renewals send it. */
  clearKeyText(): { cleared: boolean; reason: string } {
    const s = this.state();
    if (!s.key) throw new VolactError('KEY_NOT_INSTALLED');
    if (s.key.keyClass === 'setup') return { cleared: false, reason: 'a setup key is public and renewals send it; nothing secret to clear' };
    s.key.text = null;
    saveState(this.dir, s);
    return { cleared: true, reason: 'the key text is cleared; the license stays' };
  }

  setKms(spec: { host: string | null; port: number | null }): ClientState {
    const s = this.state();
    s.kms = spec;
    saveState(this.dir, s);
    return s;
  }

  /** `-skms-domain` / `-ckms-domain`: the domain searched for SRV records (null: the search domains). */
  setLookupDomain(domain: string | null): ClientState {
    const name = domain?.replace(/\.$/, '').toLowerCase() ?? null;
    if (name !== null && !/^(?=.{1,253}$)([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?\.)*[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9])?$/.test(name)) {
      throw new VolactError('USAGE', { detail: `${domain} is not a DNS domain name` });
    }
    const s = this.state();
    s.discovery = { ...s.discovery, domain: name, lastHost: null };
    saveState(this.dir, s);
    return s;
  }

  /**
   * `volact client dns-server`: the DNS server asked for the SRV records and the hosts' addresses
   * (split-horizon and lab zones the system resolver does not see); null goes back to the system's.
   */
  setDnsServer(spec: string | null): ClientState {
    const server = spec === null ? null : parseDnsServer(spec);
    const s = this.state();
    // a host found through another server's view of DNS is not kept
    s.discovery = { ...s.discovery, dnsServer: server, lastHost: server === s.discovery.dnsServer ? s.discovery.lastHost : null };
    saveState(this.dir, s);
    return s;
  }

  /** The DNS server for SRV lookups: VOLACT_DNS_SERVER (tests), else the stored setting, else none (the system's). */
  private dnsServer(s: ClientState): { server: string | null; from: 'VOLACT_DNS_SERVER' | 'setting' | null } {
    if (this.env.VOLACT_DNS_SERVER) return { server: this.env.VOLACT_DNS_SERVER, from: 'VOLACT_DNS_SERVER' };
    return s.discovery.dnsServer ? { server: s.discovery.dnsServer, from: 'setting' } : { server: null, from: null };
  }

  /** `-skhc` / `-ckhc`: keep using the host that answered last (default), or discover every time. */
  setHostCaching(on: boolean): ClientState {
    const s = this.state();
    s.discovery = { ...s.discovery, caching: on, lastHost: on ? s.discovery.lastHost : null };
    saveState(this.dir, s);
    return s;
  }

  setIdentity(identity: string | null): ClientState {
    const s = this.state();
    s.machine = this.newMachine({ ...readFingerprint(this.env), ...(identity ? { osId: `identity:${identity}` } : {}) }, identity);
    saveState(this.dir, s);
    saveLicense(this.dir, null);
    return s;
  }

  /** `-rearm`: new machine ID and a fresh initial grace; limited (5 by default). */
  rearm(): ClientState {
    const s = this.state();
    if (s.rearmsUsed >= defaults.rearmLimit) throw new VolactError('REARM_LIMIT', { limit: defaults.rearmLimit });
    s.rearmsUsed += 1;
    s.machine = this.newMachine(s.machine.madeFor, s.machine.identity);
    s.graceStart = Math.max(this.clock.now(), s.highWater, s.localHighWater);
    s.lastAttempt = null;
    saveState(this.dir, s);
    saveLicense(this.dir, null);
    return s;
  }

  /**
   * license.json, read once and re-verified for this machine: at most one of a host grant, a MAK
   * activation (online or offline) or a directory activation; or the problem with it. A file
   * that cannot be read or whose signatures do not verify is damaged; one issued to another
   * machine (copied in) is foreign. Either counts as no activation, and -ato replaces it.
   */
  private readStored(s: ClientState): StoredRead {
    const none: StoredRead = { grant: null, mak: null, directory: null, problem: null };
    const file = join(this.dir, 'license.json');
    try {
      const license = loadLicense(this.dir);
      if (!license) return none;
      if ('bundle' in license) return { ...none, grant: this.verifyGrant(s, license) };
      if ('mak' in license) return { ...none, mak: this.verifyMak(s, license) };
      if ('offline' in license) return { ...none, mak: this.storedOffline(s, license) };
      if ('directory' in license) return { ...none, directory: this.verifyDirectory(s, license) };
      return { ...none, problem: { kind: 'damaged', error: new VolactError('STATE_CORRUPT', { file, detail: 'it holds no license volact writes' }) } };
    } catch (err) {
      return { ...none, problem: licenseProblem(err, file) };
    }
  }

  private storedGrant(s: ClientState) {
    return this.readStored(s).grant;
  }

  private storedMak(s: ClientState) {
    return this.readStored(s).mak;
  }

  private storedDirectory(s: ClientState) {
    return this.readStored(s).directory;
  }

  /** A stored host grant for this machine and the installed edition (another edition counts as none). */
  private verifyGrant(s: ClientState, license: StoredLicense): { grant: Grant; license: StoredLicense; cert: HostCert } | null {
    const issuedAt = (parseJws(license.bundle.answer).payload as { issuedAt?: number }).issuedAt ?? 0;
    const v = verifyHostAnswer(license.bundle, this.roots(), { machineId: s.machine.id, nonce: license.nonce, fingerprintHash: identityHash(s.machine.madeFor), now: issuedAt });
    return v.kind === 'grant' && s.key?.edition === v.grant.edition ? { grant: v.grant, license, cert: v.chain.cert } : null;
  }

  /** A stored online MAK activation for this machine and the installed MAK's edition. */
  private verifyMak(s: ClientState, license: StoredMakLicense): { grant: MakGrant; license: StoredMakLicense } | null {
    const issuedAt = (parseJws(license.mak.grant).payload as { issuedAt?: number }).issuedAt ?? 0;
    const grant = verifyMakGrant(license.mak.grant, license.mak.issuer, this.roots(), { machineId: s.machine.id, nonce: license.nonce, now: issuedAt });
    return s.key?.keyClass === 'mak' && s.key.edition === grant.edition ? { grant, license } : null;
  }

  /**
   * An offline MAK activation: the confirmation must still verify for the stored installation ID,
   * which must name this machine ID and the installed key. Hardware is judged by the same rule
   * as online (its parts against the IID's), so a repair keeps it and a new board starts grace.
   */
  private storedOffline(s: ClientState, license: StoredOfflineLicense): { grant: MakGrant; license: StoredOfflineLicense } | null {
    const iid = parsePublicForm(license.offline.installation);
    if (iid.type !== 'mak') throw new VolactError('DOCUMENT_INVALID', { type: 'offline MAK activation', detail: 'its installation ID is not a MAK installation ID' });
    if (!iid.machineRef!.equals(machineRef(s.machine.id))) throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: 'another machine', ours: s.machine.id });
    if (s.key?.keyClass !== 'mak' || iid.key.ref !== s.key.edition) return null;
    // -ipk drops the license, so it was applied for this key; the key text (gone after -cpky) confirms it when kept
    if (s.key.text && decodeKey(s.key.text).serial !== iid.key.serial) return null;
    const { cid } = verifyOfflineConfirmation(license.offline.confirmationId, iid, [license.offline.issuer], this.roots());
    let edition: { code: string; name: string } | undefined;
    try {
      const b = this.offlineBundle();
      edition = verifyCatalog(b.catalog, b.catalogIssuer, this.roots()).editions.find((e) => e.number === iid.key.ref);
    } catch {
      edition = undefined; // names are for display only
    }
    const grant: MakGrant = {
      makId: makIdOf(iid.key),
      machineId: s.machine.id,
      nonce: 'offline-confirmation',
      edition: iid.key.ref,
      editionCode: edition?.code ?? String(iid.key.ref),
      editionName: edition?.name ?? `edition ${iid.key.ref}`,
      parts: iid.parts!,
      issuedAt: cid.issuedAt,
      activationsUsed: 0,
      activationsLimit: 0,
    };
    return { grant, license };
  }

  /** A stored directory activation, re-verified (signature, this machine, this directory, this edition). */
  private verifyDirectory(s: ClientState, license: StoredDirectoryLicense): { object: VerifiedDirectoryObject; license: StoredDirectoryLicense } | null {
    const d = license.directory;
    // read by this machine (a copied file is not)
    if (d.machineId !== s.machine.id || d.fingerprintHash !== identityHash(s.machine.madeFor)) throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: String(d.machineId), ours: s.machine.id });
    const object = verifyDirectoryObject(d.value, this.roots(), { directoryId: d.directoryId, name: d.name });
    // from the directory it is joined to now, for this edition
    if (s.key?.keyClass !== 'setup' || !s.directory || d.base !== s.directory.base || d.bindDn !== s.directory.bindDn) return null;
    if (!object.editions.some((e) => e.number === s.key!.edition)) return null;
    // exactly 180 days from a read that is not in the future of this machine's trusted time
    const trustedNow = Math.max(this.clock.now(), s.localHighWater, s.highWater);
    if (typeof d.activatedAt !== 'number' || d.validUntil !== d.activatedAt + defaults.validityMs || d.activatedAt > trustedNow) return null;
    if (s.directoryReadAt !== d.activatedAt) return null;
    return { object, license };
  }

  /**
   * The license state. A damaged or foreign license.json counts as no activation (the machine
   * is in whatever grace it has, and -ato replaces the file); the reason says so.
   */
  license(s = this.state()): LicenseView {
    const read = this.readStored(s);
    const { grant: stored, directory: dir, mak } = read;
    let makInput: { sameHardware: boolean; outOfToleranceSince: number | null; offline: boolean } | null = null;
    if (mak) {
      const sameHw = sameHardware(mak.grant.parts, hashedFingerprint(this.fingerprint()));
      if (!sameHw && s.outOfToleranceSince === null) {
        // first seen now: the 30 days of out-of-tolerance grace start here
        s.outOfToleranceSince = Math.max(this.clock.now(), s.localHighWater);
        saveState(this.dir, s);
      } else if (sameHw && s.outOfToleranceSince !== null) {
        // the parts are back (a card put back): a later change starts a fresh grace period
        s.outOfToleranceSince = null;
        saveState(this.dir, s);
      }
      makInput = { sameHardware: sameHw, outOfToleranceSince: s.outOfToleranceSince, offline: 'offline' in mak.license };
    }
    return licenseState(
      {
        keyInstalled: s.key !== null,
        graceStart: s.graceStart,
        highWater: s.highWater,
        localHighWater: s.localHighWater,
        grant: stored?.grant ?? null,
        mak: makInput,
        directory: dir ? { name: dir.license.directory.name, validUntil: dir.license.directory.validUntil } : null,
        problem: read.problem ? problemReason(read.problem) : null,
      },
      this.clock.now(),
    );
  }

  /** The domains searched for SRV records: -skms-domain, else the machine's DNS search domains. */
  lookupDomains(s: ClientState): string[] {
    return s.discovery.domain ? [s.discovery.domain] : readSearchDomains(this.env);
  }

  /**
   * `-ato` with a setup key: a pinned host (-skms) wins; otherwise the host that answered last
   * (host caching), then the SRV records of the lookup domains in RFC 2782 order, dropping each
   * host that does not answer (or answers with something that does not verify) for the next.
   */
  async activate(opts: { startup?: boolean } = {}): Promise<ActivationOutcome> {
    const s = this.state();
    if (!s.key) throw new VolactError('KEY_NOT_INSTALLED');
    if (s.key.keyClass === 'mak') return this.activateMak(s);
    if (s.key.keyClass !== 'setup') throw new VolactError('CHANNEL_UNAVAILABLE', { class: s.key.keyClass, channel: 'a hypervisor agent' });
    if (!s.key.text) throw new VolactError('KEY_NOT_INSTALLED');
    const ready = s as ClientState & { key: { text: string; edition: number } };
    // directory activation first (the guide's primary method), then a host, as -act-type allows
    let directoryNote: string | undefined;
    if (s.actType !== 'host') {
      if (!s.directory) {
        if (s.actType === 'directory') throw new VolactError('DIRECTORY_NOT_CONFIGURED');
      } else {
        const tried = await this.activateFromDirectory(ready, opts.startup ?? false);
        if (tried.ok) return tried.outcome;
        if (!tried.fallBack || s.actType === 'directory') throw tried.error;
        directoryNote = `${tried.error.code}: ${tried.error.message}`;
      }
    }
    try {
      const outcome = await this.activateFromHost(ready);
      return directoryNote ? { ...outcome, directoryNote } : outcome;
    } catch (err) {
      if (directoryNote && err instanceof VolactError && err.code === 'NO_HOST_FOUND') throw new VolactError('NO_HOST_FOUND', { detail: `${err.params.detail}; directory activation was not used (${directoryNote})` });
      throw err;
    }
  }

  /** The directory settings as a connection target (password and CA from their files). */
  directoryTarget(s: ClientState = this.state()): DirectoryTarget {
    if (!s.directory) throw new VolactError('DIRECTORY_NOT_CONFIGURED');
    const read = (name: string) => {
      const file = join(this.dir, name);
      try {
        return readFileSync(file, 'utf8');
      } catch (err) {
        throw new VolactError('STATE_CORRUPT', { file, detail: (err as NodeJS.ErrnoException).code ?? String(err) });
      }
    };
    const { urls, base, bindDn, allowPlainBind } = s.directory;
    return { urls, base, bindDn, allowPlainBind, password: read('directory.secret').replace(/\r?\n$/, ''), ...(s.directory.ca ? { ca: read('directory-ca.pem') } : {}) };
  }

  /**
   * `volact client directory`: joins this machine to a directory (its servers, any replica; its
   * suffix; its machine account, whose password is kept 0600). null leaves the directory.
   */
  setDirectory(settings: { urls: string[]; base: string; bindDn: string; password: string; ca?: string; allowPlainBind?: boolean } | null): ClientState {
    const s = this.state();
    ensureDir(this.dir);
    if (settings === null) {
      s.directory = null;
      s.directoryNote = null;
      s.directoryReadAt = null;
      saveState(this.dir, s);
      // then the files: a directory license no longer verifies without the membership anyway
      let license;
      try {
        license = loadLicense(this.dir);
      } catch {
        license = undefined;
      }
      if (license && 'directory' in license) saveLicense(this.dir, null);
      rmSync(join(this.dir, 'directory.secret'), { force: true });
      rmSync(join(this.dir, 'directory-ca.pem'), { force: true });
      return s;
    }
    if (settings.urls.length === 0 || settings.urls.length > 16) throw new VolactError('USAGE', { detail: 'give 1 to 16 directory URLs' });
    for (const url of settings.urls) checkLdapUrl(url);
    if (!settings.base.trim() || !settings.bindDn.trim() || settings.base.length > 512 || settings.bindDn.length > 1024) throw new VolactError('USAGE', { detail: 'give the directory suffix (--ldap-base) and the machine account DN (--bind-dn)' });
    if (!settings.password) throw new VolactError('USAGE', { detail: 'the password file is empty; an empty password would be an anonymous bind' });
    writeOrFail(this.dir, join(this.dir, 'directory.secret'), settings.password, 0o600);
    if (settings.ca) writeOrFail(this.dir, join(this.dir, 'directory-ca.pem'), settings.ca, 0o644);
    else rmSync(join(this.dir, 'directory-ca.pem'), { force: true });
    if (s.directory && (s.directory.base !== settings.base || s.directory.bindDn !== settings.bindDn)) {
      // another directory or another account: an activation read as the old one no longer counts
      s.directoryReadAt = null;
      s.directoryNote = null;
    }
    s.directory = { urls: settings.urls, base: settings.base, bindDn: settings.bindDn, allowPlainBind: Boolean(settings.allowPlainBind), ca: Boolean(settings.ca) };
    saveState(this.dir, s);
    return s;
  }

  /** `-act-type`: all channels (0), directory only (1), host only (2). */
  setActType(t: ActType): ClientState {
    const s = this.state();
    s.actType = t;
    saveState(this.dir, s);
    return s;
  }

  /**
   * One read of the directory: bind with the machine account (any replica), read the objects,
   * keep the first that verifies to the pinned root, belongs to this directory (its server-made
   * ID) and covers the installed edition; 180 days from now. A refused account, or no valid
   * object, ends directory activation now (the host may take over); a directory that cannot be
   * reached keeps a directory activation that is still valid.
   */
  private async activateFromDirectory(s: ClientState & { key: { text: string; edition: number } }, startup: boolean): Promise<DirectoryTry> {
    const roots = this.roots();
    const now = this.clock.now();
    const held = this.storedDirectory(s);
    const licenseState = this.license(s).state;
    const heldValid = held !== null && licenseState === 'licensed';
    const label = s.directory!.urls.join(',');
    appendEvent(this.dir, { event: 12288, at: now, machineId: s.machine.id, licenseState, host: label, edition: s.key.edition, channel: 'directory' });
    /** The directory says no (account refused, no object): the directory activation ends now. */
    const lose = (error: VolactError): DirectoryTry => {
      if (held) saveLicense(this.dir, null);
      s.directoryReadAt = null;
      s.directoryNote = `${error.code}: ${error.message}`;
      s.lastAttempt = { at: now, ok: false };
      saveState(this.dir, s);
      appendEvent(this.dir, { event: 12289, at: now, machineId: s.machine.id, host: label, outcome: 'directoryRefused', code: error.code, channel: 'directory', detail: error.message, dropped: Boolean(held) });
      return { ok: false, error, fallBack: true };
    };
    /** The directory could not answer (away from the office, a TLS or local problem): a valid activation is kept. */
    const failed = (err: VolactError): DirectoryTry => {
      s.lastAttempt = { at: now, ok: false };
      s.directoryNote = `${err.code}: ${err.message}`;
      saveState(this.dir, s);
      appendEvent(this.dir, { event: 12289, at: now, machineId: s.machine.id, host: label, outcome: 'directoryUnreachable', code: err.code, channel: 'directory', detail: err.message });
      if (held && heldValid) {
        const until = new Date(held.license.directory.validUntil).toISOString();
        const cause = err.code === 'DIRECTORY_UNREACHABLE' ? String(err.params.detail ?? err.message) : `${err.code}: ${err.message}`;
        return { ok: false, fallBack: false, error: new VolactError('DIRECTORY_ACTIVATION_KEPT', { detail: cause, name: held.license.directory.name, until }) };
      }
      return { ok: false, error: err, fallBack: true };
    };
    let target: DirectoryTarget;
    try {
      target = this.directoryTarget(s);
    } catch (err) {
      if (!(err instanceof VolactError)) throw err;
      return failed(err);
    }
    let session;
    try {
      session = await connectDirectory(target);
    } catch (err) {
      if (!(err instanceof VolactError)) throw err;
      // a refused account ends directory activation at the next start (the agent's first read,
      // or -ato); a refusal between starts (a lockout anyone can provoke) is only retried
      if (err.code === 'DIRECTORY_BIND_REFUSED' && (startup || !heldValid)) return lose(err);
      return failed(err);
    }
    try {
      const identity = await readDirectoryId(session, target.base);
      const objects = await listObjects(session, target.base);
      const refused: string[] = [];
      for (const o of objects) {
        let verified: VerifiedDirectoryObject;
        try {
          verified = verifyDirectoryObject(o.value, roots, { directoryId: identity.directoryId, name: o.name });
        } catch (err) {
          refused.push(`${o.name}: ${err instanceof VolactError ? `${err.code} ${err.message}` : String(err)}`);
          continue;
        }
        if (!verified.editions.some((e) => e.number === s.key.edition)) {
          refused.push(`${o.name}: covers ${verified.group}, not edition ${s.key.edition}`);
          continue;
        }
        const activatedAt = Math.max(now, s.localHighWater);
        const validUntil = activatedAt + defaults.validityMs;
        saveLicense(this.dir, {
          v: 1,
          directory: { value: o.value, dn: o.dn, name: o.name, directoryId: identity.directoryId, url: session.url, activatedAt, validUntil, machineId: s.machine.id, fingerprintHash: identityHash(s.machine.madeFor), base: target.base, bindDn: target.bindDn },
        });
        s.intervals = { renewalMinutes: defaults.directoryRenewalMinutes, retryMinutes: s.intervals.retryMinutes };
        s.lastAttempt = { at: now, ok: true };
        s.localHighWater = activatedAt;
        s.lastAnswer = { kind: 'directory', count: 0, required: 0, at: activatedAt, host: session.url };
        s.directoryReadAt = activatedAt;
        s.directoryNote = null;
        saveState(this.dir, s);
        appendEvent(this.dir, { event: 12289, at: now, machineId: s.machine.id, host: session.url, outcome: 'directory', object: o.name, dn: o.dn, channel: 'directory' });
        return { ok: true, outcome: { kind: held ? 'directoryRenewed' : 'directoryActivated', name: o.name, dn: o.dn, validUntil, host: session.url } };
      }
      const none = new VolactError('DIRECTORY_NO_OBJECT', { edition: s.key.edition, detail: objects.length ? refused.join('; ') : `no object is readable under the container at ${session.url}` });
      // "no object" ends the activation only when the answer could not have been forged on the way
      return session.trusted ? lose(none) : failed(none);
    } catch (err) {
      if (!(err instanceof VolactError)) throw err;
      return failed(err);
    } finally {
      await session.close();
    }
  }

  /** A pinned host, else the cached host, else DNS SRV discovery. */
  private async activateFromHost(ready: ClientState & { key: { text: string; edition: number } }): Promise<ActivationOutcome> {
    const s = ready;
    if (s.kms.host) return this.activateAt(ready, { host: s.kms.host, port: s.kms.port ?? defaults.port });
    this.roots(); // a local problem (no pinned root) is said once, not blamed on every host
    const tried: string[] = [];
    let refused: ActivationOutcome | undefined;
    /**
     * One host. A signed grant or count answer ends the search, and that host is remembered
     * (host caching): it is a host for this edition. Anything else (no answer, an unsigned error
     * such as a rate limit, an answer that does not verify, a signed refusal for this edition)
     * moves on to the next host; a refusal is returned if no host does better.
     */
    const attempt = async (target: HostTarget): Promise<ActivationOutcome | undefined> => {
      const label = targetLabel(target.host, target.port);
      try {
        const outcome = await this.activateAt(ready, target);
        if (outcome.kind === 'refused') {
          refused ??= outcome;
          tried.push(`${label} (refused: ${outcome.code})`);
          return undefined;
        }
        s.discovery.lastHost = s.discovery.caching ? target : null;
        saveState(this.dir, s);
        return outcome;
      } catch (err) {
        if (!(err instanceof VolactError) || localErrors.has(err.code)) throw err;
        tried.push(`${label} (${err.code}: ${err.message})`);
        return undefined;
      }
    };
    const cached = s.discovery.caching ? s.discovery.lastHost : null;
    if (cached) {
      const outcome = await attempt(cached);
      if (outcome) return outcome;
    }
    const domains = this.lookupDomains(s);
    if (domains.length === 0) throw new VolactError('NO_HOST_FOUND', { detail: `no host is pinned and there is no lookup domain (no -skms-domain, no search domain in ${this.env.VOLACT_RESOLV_CONF ?? '/etc/resolv.conf'})${tried.length ? `; tried ${tried.join(', ')}` : ''}` });
    const found = await discover(domains, this.dnsServer(s).server ?? undefined);
    tried.unshift(...found.tried);
    for (const target of found.targets) {
      if (cached && target.host === cached.host && target.port === cached.port) continue;
      const outcome = await attempt(target);
      if (outcome) return outcome;
    }
    if (s.discovery.lastHost) {
      s.discovery.lastHost = null;
      saveState(this.dir, s);
    }
    if (refused) return refused;
    throw new VolactError('NO_HOST_FOUND', { detail: `looked in ${domains.join(', ')}; ${tried.join('; ') || 'no host answered'}` });
  }

  /** One activation attempt at one host: the request, the verified answer, the stored license. */
  private async activateAt(s: ClientState & { key: { text: string; edition: number } }, target: HostTarget): Promise<ActivationOutcome> {
    const roots = this.roots();
    const hostLabel = targetLabel(target.host, target.port);
    const before = this.license(s);
    const nonce = randomBytes(18).toString('base64url');
    const now = this.clock.now();
    const req: ActivateRequest = {
      v: 1,
      machineId: s.machine.id,
      fingerprintHash: identityHash(s.machine.madeFor),
      setupKey: s.key.text,
      nonce,
      clientTime: now,
      licenseState: before.state,
      vm: this.env.VOLACT_VM === '1',
      machineName: hostname().slice(0, 128),
    };
    appendEvent(this.dir, { event: 12288, at: now, machineId: s.machine.id, licenseState: before.state, host: hostLabel, edition: s.key.edition });
    const finish = (ok: boolean) => {
      s.lastAttempt = { at: now, ok };
      s.localHighWater = Math.max(s.localHighWater, now);
      saveState(this.dir, s);
    };
    let reply: { status: number; body: unknown };
    try {
      reply = await this.post(target, req);
    } catch (err) {
      finish(false);
      throw new VolactError('HOST_UNREACHABLE', { target: hostLabel, reason: err instanceof Error ? err.message : String(err) });
    }
    const body = reply.body as Partial<HostAnswerBundle> | undefined;
    if (!body || typeof body.answer !== 'string' || typeof body.certificate !== 'string' || typeof body.issuer !== 'string') {
      finish(false);
      throw fromErrorBody(reply.body) ?? new VolactError('HOST_UNREACHABLE', { target: hostLabel, reason: `unexpected answer (HTTP ${reply.status})` });
    }
    const bundle: HostAnswerBundle = { answer: body.answer, certificate: body.certificate, issuer: body.issuer };
    let verified;
    try {
      verified = verifyHostAnswer(bundle, roots, { machineId: s.machine.id, nonce, fingerprintHash: req.fingerprintHash, now });
    } catch (err) {
      finish(false);
      appendEvent(this.dir, { event: 12289, at: now, machineId: s.machine.id, host: hostLabel, outcome: 'rejected', code: err instanceof VolactError ? err.code : 'INTERNAL' });
      throw err;
    }
    const a = verified.kind === 'grant' ? verified.grant : verified.answer;
    s.intervals = { renewalMinutes: a.renewalMinutes, retryMinutes: a.retryMinutes };
    s.hostCertificate = { certificate: bundle.certificate, issuer: bundle.issuer, at: a.issuedAt };
    if (verified.kind !== 'refusal') {
      // Grants and count answers passed the 4-hour skew check (a clock refusal did not), so the
      // host vouched for our clock: a clock once set forward by mistake stops counting here and
      // cannot stick; a clock set back still extends nothing.
      s.highWater = Math.max(s.highWater, a.issuedAt);
      s.localHighWater = Math.max(now, a.issuedAt);
    }
    s.lastAnswer = { kind: verified.kind, count: a.count, required: a.required, at: a.issuedAt, host: hostLabel };
    appendEvent(this.dir, { event: 12289, at: now, machineId: s.machine.id, host: hostLabel, outcome: verified.kind, count: a.count, required: a.required, renewalMinutes: a.renewalMinutes, retryMinutes: a.retryMinutes });
    switch (verified.kind) {
      case 'grant':
        saveLicense(this.dir, { v: 1, bundle, nonce, host: hostLabel });
        finish(true);
        return { kind: before.state === 'licensed' ? 'renewed' : 'activated', grant: verified.grant, host: hostLabel };
      case 'countInsufficient':
        finish(false);
        return { kind: 'countInsufficient', count: a.count, required: a.required, retryMinutes: a.retryMinutes, host: hostLabel };
      case 'refusal': {
        finish(false);
        const r = verified.answer;
        const editions = verified.chain.cert.group;
        const detail: Record<string, string | number> = r.code === 'CLOCK_SKEW' ? { minutes: Math.round(Math.abs(r.issuedAt - now) / 60_000) } : { edition: r.edition, groups: editions };
        return { kind: 'refused', code: r.code, count: r.count, host: hostLabel, detail };
      }
    }
  }

  /** `-ato` with a MAK: once with the authority, bound to this machine's hashed hardware. */
  private async activateMak(s: ClientState): Promise<ActivationOutcome> {
    if (!s.key?.text) throw new VolactError('KEY_NOT_INSTALLED');
    const authority = this.env.VOLACT_AUTHORITY_URL ?? s.authorityUrl;
    if (!authority) throw new VolactError('NO_AUTHORITY');
    const roots = this.roots();
    const before = this.license(s);
    const nonce = randomBytes(18).toString('base64url');
    const now = this.clock.now();
    const req: MakActivationRequest = { v: 1, makKey: s.key.text, machineId: s.machine.id, parts: hashedFingerprint(this.fingerprint()), nonce };
    appendEvent(this.dir, { event: 12288, at: now, machineId: s.machine.id, licenseState: before.state, host: authority, edition: s.key.edition, channel: 'mak' });
    s.lastAttempt = { at: now, ok: false };
    saveState(this.dir, s);
    const answer = await callAuthority(authority, '/v1/mak-activations', req, makActivationAnswerSchema, this.postAuthority);
    const grant = verifyMakGrant(answer.grant, answer.issuer, roots, { machineId: s.machine.id, nonce, now });
    if (grant.edition !== s.key.edition) throw new VolactError('DOCUMENT_INVALID', { type: 'volact.mak-grant', detail: `for edition ${grant.edition}, not ${s.key.edition}` });
    saveLicense(this.dir, { v: 1, mak: { grant: answer.grant, issuer: answer.issuer }, nonce, authority });
    s.lastAttempt = { at: now, ok: true };
    s.outOfToleranceSince = null;
    s.localHighWater = Math.max(now, grant.issuedAt);
    saveState(this.dir, s);
    appendEvent(this.dir, { event: 12289, at: now, machineId: s.machine.id, host: authority, outcome: 'makGrant', activationsUsed: grant.activationsUsed, activationsLimit: grant.activationsLimit });
    return { kind: 'makActivated', makGrant: grant, host: authority };
  }

  /**
   * The code and name of an edition, from documents that verify against the pinned root only:
   * those of the license in use (`verified`), then the host certificate of the last verified
   * answer (a count-insufficient answer carries one too), the catalog of the installed offline
   * bundle, and the catalog fetched by `client trust --authority`. A source that does not verify
   * names nothing; with none, -dlv shows the edition's number alone.
   */
  private editionNames(s: ClientState, number: number, verified: (readonly { number: number; code: string; name: string }[] | undefined)[]): { code: string; name: string } | null {
    type Editions = readonly { number: number; code: string; name: string }[] | null | undefined;
    const sources: (() => Editions)[] = [
      ...verified.map((editions) => () => editions),
      () => s.hostCertificate && verifyHostCert(s.hostCertificate.certificate, s.hostCertificate.issuer, this.roots(), s.hostCertificate.at).cert.editions,
      () => {
        const b = this.offlineBundle();
        return verifyCatalog(b.catalog, b.catalogIssuer, this.roots()).editions;
      },
      () => {
        const c = loadCatalog(this.dir);
        return c && verifyCatalog(c.catalog, c.issuer, this.roots()).editions;
      },
    ];
    for (const source of sources) {
      try {
        const found = source()?.find((e) => e.number === number);
        if (found) return { code: found.code, name: found.name };
      } catch {
        // names are for display: a damaged or foreign document names nothing
      }
    }
    return null;
  }

  /** Everything `-dlv` shows. */
  details() {
    const s = this.state();
    // -dli, -dlv and -xpr name a damaged file (STATE_CORRUPT); the agent and -ato go on without it
    if (existsSync(join(this.dir, 'root.pub'))) this.roots();
    const read = this.readStored(s);
    if (read.problem?.kind === 'damaged') throw read.problem.error;
    const view = this.license(s);
    const { grant: stored, mak, directory: dirLicense } = read;
    const cert = stored?.cert ?? null; // verified (a JWS certificate or an offline host's confirmation)
    // an online MAK grant is signed with its names; an offline one has them from the bundle, below
    const makEditions = mak && 'mak' in mak.license ? [{ number: mak.grant.edition, code: mak.grant.editionCode, name: mak.grant.editionName }] : undefined;
    const edition = s.key ? this.editionNames(s, s.key.edition, [cert?.editions, dirLicense?.object.editions, makEditions]) : null;
    return {
      channel: s.key ? ({ setup: 'VOLUME_HOSTCLIENT', mak: 'VOLUME_MAK', vm: 'VIRTUAL_MACHINE_ACTIVATION', host: 'VOLUME_HOST' } as const)[s.key.keyClass] : null,
      partialKey: s.key?.partial ?? null,
      edition: s.key ? { number: s.key.edition, code: edition?.code ?? null, name: edition?.name ?? null } : null,
      licenseState: view.state,
      reason: view.reason,
      endsAt: view.endsAt === null ? null : new Date(view.endsAt).toISOString(),
      machineId: s.machine.id,
      identity: s.machine.identity,
      activatedBy: view.grant ? { hostName: view.grant.hostName, hostId: view.grant.hostId, address: stored?.license.host ?? null, at: new Date(view.grant.issuedAt).toISOString() } : null,
      validUntil: view.grant ? new Date(view.grant.validUntil).toISOString() : dirLicense ? new Date(dirLicense.license.directory.validUntil).toISOString() : null,
      pinnedHost: s.kms.host ? targetLabel(s.kms.host, s.kms.port ?? defaults.port) : null,
      discoveredHost: s.discovery.lastHost ? targetLabel(s.discovery.lastHost.host, s.discovery.lastHost.port) : null,
      lookupDomain: s.discovery.domain,
      lookupDomains: s.kms.host ? [] : this.lookupDomains(s),
      dnsServer: this.dnsServer(s).server,
      dnsServerFrom: this.dnsServer(s).from,
      hostCaching: s.discovery.caching,
      pinnedPort: s.kms.port,
      renewalMinutes: s.intervals.renewalMinutes,
      retryMinutes: s.intervals.retryMinutes,
      lastAnswer: s.lastAnswer ? { ...s.lastAnswer, at: new Date(s.lastAnswer.at).toISOString() } : null,
      mak: mak
        ? 'offline' in mak.license
          ? { id: mak.grant.makId, edition: mak.grant.editionName, activationsUsed: null, activationsLimit: null, activationsLeft: null, authority: 'offline (confirmation ID)', at: new Date(mak.grant.issuedAt).toISOString() }
          : {
              id: mak.grant.makId,
              edition: mak.grant.editionName,
              activationsUsed: mak.grant.activationsUsed,
              activationsLimit: mak.grant.activationsLimit,
              activationsLeft: mak.grant.activationsLimit - mak.grant.activationsUsed,
              authority: mak.license.authority,
              at: new Date(mak.grant.issuedAt).toISOString(),
            }
        : null,
      authorityUrl: s.authorityUrl,
      activationType: s.actType,
      directory: s.directory
        ? {
            urls: s.directory.urls,
            base: s.directory.base,
            bindDn: s.directory.bindDn,
            tls: s.directory.allowPlainBind ? 'StartTLS or LDAPS when offered; plain bind allowed' : 'LDAPS or StartTLS; plain bind only on loopback',
            object: dirLicense
              ? { name: dirLicense.license.directory.name, dn: dirLicense.license.directory.dn, directoryId: dirLicense.license.directory.directoryId, server: dirLicense.license.directory.url, group: dirLicense.object.group, at: new Date(dirLicense.license.directory.activatedAt).toISOString(), validUntil: new Date(dirLicense.license.directory.validUntil).toISOString() }
              : null,
            note: s.directoryNote,
          }
        : null,
      rearmsLeft: defaults.rearmLimit - s.rearmsUsed,
      trustedTime: new Date(view.trustedNow).toISOString(),
    };
  }
}

