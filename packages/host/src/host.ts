import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import {
  DOC_VERSION,
  VolactError,
  decodeKey,
  defaults,
  docTypes,
  hostActivationAnswerSchema,
  makeInstallationId,
  offlineHostCertificate,
  parseConfirmation,
  partialKey,
  rawPublicKey,
  signer,
  thresholdFor,
  verifyCatalog,
  verifyHostCert,
  type ActivateRequest,
  type Catalog,
  type Clock,
  type Edition,
  type KeyPair,
  type OfflineBundle,
  type Root,
} from '@volact/protocol';
import { callAuthority, postJson, type Post } from '@volact/server-kit';
import { ActivationBatch, type Decision, type Outcome, type Pending, type WalGate } from './activation-batch.js';
import { HostStore, type EventQuery, type MachineQuery, type InstalledKey, type Signed } from './host-store.js';
import { MachineCounter } from './machine-counter.js';
import {
  checkDns,
  checkHostName,
  checkListenAddress,
  checkServedNetworks,
  checkSetting,
  settingsFrom,
  type HostSettings,
  type NumericSetting,
} from './settings.js';
import type { DnsConfig } from './dns-publisher.js';

/** A host certificate in force, with what answers take from it. */
export type HostCertificate = {
  certificate: string;
  issuer: string;
  group: string;
  notAfter: number | null;
  hostId: string;
};

/** A signed answer to one activation request, and the certificate that vouches for its signer. */
export type SignedAnswer = { outcome: Exclude<Outcome, 'notActivated'>; jws: string; certified: HostCertificate };

/** What the host answers one activation request; http.ts alone turns it into a status and a body. */
export type ActivationAnswer = SignedAnswer | { outcome: 'notActivated' };

export type HostOptions = {
  db: Database.Database;
  clock: Clock;
  keyPair: KeyPair;
  roots: Root[];
  /** The name to go by when `host serve --name` stored none: the machine's name. */
  hostName: string;
  log?: (line: string) => void;
  /** Talks to the authority; injected so tests can see exactly what is sent. */
  postAuthority?: Post;
  /** The publisher's offline bundle, for offline activation (-dti / -atp) of an air-gapped host. */
  offlineBundle?: OfflineBundle;
  /** Checkpoints the log off the commit path (runHost gives one; without it SQLite checkpoints in commits). */
  wal?: WalGate;
};

/** The activation host: keys, activation with the authority, counting and answering clients. */
export class Host {
  readonly settings: HostSettings;
  private readonly store: HostStore;
  private readonly clock: Clock;
  private readonly keyPair: KeyPair;
  private readonly roots: Root[];
  private readonly log: (line: string) => void;
  private readonly batch: ActivationBatch<ActivationAnswer>;
  private readonly counter: MachineCounter;
  private catalog: Catalog | undefined;
  private bySetupKey = new Map<string, Edition>();
  private certFor = new Map<number, HostCertificate>();
  private readonly sign: Record<'grant' | 'countInsufficient' | 'refusal', (payload: object) => string>;
  readonly startedAt: number;
  private readonly machineName: string;
  private readonly postAuthority: Post;
  private readonly offlineBundle: OfflineBundle | undefined;

  constructor(opts: HostOptions) {
    this.offlineBundle = opts.offlineBundle;
    this.store = new HostStore(opts.db);
    this.clock = opts.clock;
    this.keyPair = opts.keyPair;
    this.roots = opts.roots;
    this.machineName = opts.hostName;
    this.log = opts.log ?? ((l) => process.stderr.write(l + '\n'));
    this.postAuthority = opts.postAuthority ?? postJson;
    this.settings = settingsFrom(this.store.settings());
    this.sign = {
      grant: signer(this.keyPair, docTypes.grant, DOC_VERSION),
      countInsufficient: signer(this.keyPair, docTypes.countInsufficient, DOC_VERSION),
      refusal: signer(this.keyPair, docTypes.refusal, DOC_VERSION),
    };
    this.counter = new MachineCounter(opts.db, defaults.countWindowMs);
    this.batch = new ActivationBatch(
      opts.db,
      this.counter,
      this.clock,
      (e) => thresholdFor(e.kind),
      (p, d, now) => this.answer(p, d, now),
      this.log,
      opts.wal,
    );
    this.startedAt = this.clock.now();
    this.loadActivation();
  }

  /** The stored `--name`, else the machine's name: shown to clients, and the default SRV target. */
  get hostName(): string {
    return this.settings.hostName ?? this.machineName;
  }

  /** `host serve --name NAME` stores it for later starts; '' goes back to the machine's name. */
  setHostName(name: string): void {
    checkHostName(name);
    this.store.writeSetting('hostName', name || null);
    this.settings.hostName = name || null;
  }

  /** `host serve --listen ADDRESS`, stored once the host listens there. */
  setListenAddress(address: string): void {
    checkListenAddress(address);
    this.store.writeSetting('listenAddress', address);
    this.settings.listenAddress = address;
  }

  get publicKey(): string {
    return rawPublicKey(this.keyPair.publicKey);
  }

  get activated(): boolean {
    return this.certFor.size > 0;
  }

  /** Rebuilds the in-memory view (editions, certificates) from what is stored and verified. */
  private loadActivation(): void {
    this.certFor.clear();
    this.bySetupKey.clear();
    const row = this.store.catalog();
    this.catalog = row ? verifyCatalog(row.jws, row.issuer, this.roots) : undefined;
    for (const e of this.catalog?.editions ?? []) this.bySetupKey.set(e.setupKey, e);
    for (const key of this.keys()) {
      if (!key.certificate || !key.issuer) continue;
      const { cert } = verifyHostCert(key.certificate, key.issuer, this.roots, this.clock.now());
      const certified: HostCertificate = {
        certificate: key.certificate,
        issuer: key.issuer,
        group: cert.group,
        notAfter: cert.notAfter,
        hostId: cert.hostId,
      };
      for (const e of cert.editions) if (!this.certFor.has(e.number)) this.certFor.set(e.number, certified);
    }
  }

  keys(): InstalledKey[] {
    return this.store.keys();
  }

  /** `-ipk` on a host: installs a host key (one per product group; a new one replaces the old). */
  installKey(typed: string): { id: string; partial: string; group: number } {
    const key = decodeKey(typed);
    if (key.keyClass !== 'host') throw new VolactError('KEY_WRONG_CLASS', { actual: key.keyClass, expected: 'host' });
    const id = `K${key.ref}-${partialKey(key.canonical)}`;
    this.store.installKey({
      id,
      productKey: key.canonical,
      partial: partialKey(key.canonical),
      groupNumber: key.ref,
      installedAt: this.clock.now(),
      requestId: randomBytes(16).toString('base64url'),
    });
    this.loadActivation();
    return { id, partial: partialKey(key.canonical), group: key.ref };
  }

  /** `-upk` on a host: removes a key by its ID or last five characters. */
  uninstallKey(which: string): number {
    const removed = this.store.removeKey(which);
    this.loadActivation();
    return removed;
  }

  /**
   * `-ato` on a host: activates every installed key with the authority. A key that is not yet
   * activated reuses its stored request ID, so a retry after a lost answer costs nothing; an
   * explicit reactivation (`force`) uses a new one and so one of the key's activations.
   */
  async activate(force = false): Promise<
    {
      id: string;
      group: string;
      hostsUsed: number;
      hostsLimit: number;
      activationsUsed: number;
      activationsLimit: number;
    }[]
  > {
    const authority = this.settings.authorityUrl;
    if (!authority)
      throw new VolactError('USAGE', { detail: 'the host has no authority URL; start it with --authority URL' });
    const keys = this.keys();
    if (keys.length === 0) throw new VolactError('KEY_NOT_INSTALLED');
    const results = [];
    for (const key of keys) {
      if (key.certificate && !force) continue;
      let requestId = key.requestId;
      if (key.certificate && force && key.requestAnswered) {
        // A new reactivation. Until its answer is stored, retries reuse this ID and cost nothing.
        requestId = randomBytes(16).toString('base64url');
        this.store.newRequestId(key.id, requestId);
      }
      const body = { v: 1, hostKey: key.productKey, hostPublicKey: this.publicKey, hostName: this.hostName, requestId };
      const answer = await callAuthority(
        authority,
        '/v1/host-activations',
        body,
        hostActivationAnswerSchema,
        this.postAuthority,
      );
      // Trust nothing the authority sent until it chains to the pinned root and names our key.
      const { cert } = verifyHostCert(answer.certificate, answer.issuer, this.roots, this.clock.now());
      if (cert.hostPublicKey !== this.publicKey)
        throw new VolactError('HOST_CERT_MISMATCH', { detail: 'certificate is for another host key' });
      const catalog = verifyCatalog(answer.catalog, answer.catalogIssuer, this.roots);
      this.certified(key.id, { jws: answer.certificate, issuer: answer.issuer }, catalog, {
        jws: answer.catalog,
        issuer: answer.catalogIssuer,
      });
      results.push({
        id: key.id,
        group: cert.group,
        hostsUsed: answer.hostsUsed,
        hostsLimit: answer.hostsLimit,
        activationsUsed: answer.activationsUsed,
        activationsLimit: answer.activationsLimit,
      });
    }
    return results;
  }

  /** `-dti` on a host: the installation ID of each installed host key for this host's own key pair. */
  installationIds(): { id: string; group: number; activated: boolean; installationId: string }[] {
    const keys = this.keys();
    if (keys.length === 0) throw new VolactError('KEY_NOT_INSTALLED');
    return keys.map((k) => ({
      id: k.id,
      group: k.groupNumber,
      activated: k.certificate !== null,
      installationId: makeInstallationId(decodeKey(k.productKey), { type: 'host', hostPublicKey: this.publicKey }).text,
    }));
  }

  /**
   * `-atp CID` on a host: finds the installed key whose installation ID the confirmation covers,
   * verifies it offline against the pinned root (offline issuer and catalog from the bundle) and
   * stores it as that key's certificate. Clients verify it like any host certificate.
   */
  applyConfirmation(cidText: string): { id: string; group: string } {
    const bundle = this.offlineBundle;
    if (!bundle) throw new VolactError('OFFLINE_BUNDLE_MISSING', { dir: 'the host state directory' });
    const cid = parseConfirmation(cidText); // typos are named by group before anything else
    const catalog = verifyCatalog(bundle.catalog, bundle.catalogIssuer, this.roots);
    let mismatch: unknown;
    for (const key of this.keys()) {
      const iid = makeInstallationId(decodeKey(key.productKey), { type: 'host', hostPublicKey: this.publicKey });
      const certificate = offlineHostCertificate({
        iid: iid.publicForm.toString('base64url'),
        cid: cid.text,
        catalog: bundle.catalog,
        catalogIssuer: bundle.catalogIssuer,
      });
      let cert;
      try {
        cert = verifyHostCert(certificate, bundle.offlineIssuer, this.roots, this.clock.now()).cert;
      } catch (err) {
        if (err instanceof VolactError && err.code === 'CONFIRMATION_MISMATCH') {
          mismatch = err;
          continue;
        }
        throw err;
      }
      this.certified(key.id, { jws: certificate, issuer: bundle.offlineIssuer }, catalog, {
        jws: bundle.catalog,
        issuer: bundle.catalogIssuer,
      });
      return { id: key.id, group: cert.group };
    }
    if (mismatch)
      throw new VolactError('CONFIRMATION_MISMATCH', {
        detail:
          'it covers none of the host keys installed here; run -dti again and give the authority the ID shown now',
      });
    throw new VolactError('KEY_NOT_INSTALLED');
  }

  /** Stores a verified certificate for a key, with its catalog unless the stored one is newer, and loads both. */
  private certified(keyId: string, cert: Signed, catalog: Catalog, catalogJws: Signed): void {
    this.store.saveCertificate(
      keyId,
      cert,
      this.clock.now(),
      catalog.serial >= (this.catalog?.serial ?? 0) ? catalogJws : undefined,
    );
    this.loadActivation();
  }

  /**
   * A client's activation request: validates what can be checked before counting (bad input
   * never reaches the database), then counts it in the next batch and answers once it committed.
   */
  activateClient(req: ActivateRequest, address: string): Promise<ActivationAnswer> {
    let edition: Edition | undefined;
    let covered = false;
    let skewed = false;
    if (this.activated) {
      edition = this.bySetupKey.get(req.setupKey);
      if (!edition) {
        const key = decodeKey(req.setupKey); // a typo is named as such; lower case and spaces are fine
        if (key.keyClass === 'host') throw new VolactError('KEY_HOST_ON_CLIENT');
        if (key.keyClass !== 'setup')
          throw new VolactError('KEY_WRONG_CLASS', { actual: key.keyClass, expected: 'setup' });
        edition = this.bySetupKey.get(key.canonical);
        if (!edition) throw new VolactError('KEY_UNKNOWN');
      }
      covered = this.certFor.has(edition.number);
      skewed = Math.abs(req.clientTime - this.clock.now()) > defaults.maxClockSkewMs;
    }
    return new Promise((resolve, reject) =>
      this.batch.submit({
        req,
        address,
        edition,
        covered,
        skewed,
        resolve,
        reject,
      } satisfies Pending<ActivationAnswer>),
    );
  }

  /** Signs the answer to one decision (after the batch committed). */
  private answer(p: Pending<ActivationAnswer>, d: Decision, now: number): ActivationAnswer {
    if (d.outcome === 'notActivated') return { outcome: 'notActivated' };
    const { req } = p;
    const edition = p.edition!;
    const certified = this.certFor.get(edition.number) ?? this.certFor.values().next().value!;
    const common = {
      machineId: req.machineId,
      nonce: req.nonce,
      edition: edition.number,
      hostId: certified.hostId,
      hostName: this.hostName,
      issuedAt: now,
      count: d.count,
      required: d.required,
      renewalMinutes: this.settings.renewalMinutes,
      retryMinutes: this.settings.retryMinutes,
    };
    let jws: string;
    switch (d.outcome) {
      case 'activated':
      case 'renewed': {
        const validUntil = Math.min(now + defaults.validityMs, certified.notAfter ?? Infinity);
        jws = this.sign.grant({ ...common, fingerprintHash: req.fingerprintHash, validUntil });
        break;
      }
      case 'countInsufficient':
        jws = this.sign.countInsufficient(common);
        break;
      case 'editionNotCovered':
        jws = this.sign.refusal({ ...common, code: 'EDITION_NOT_COVERED' });
        break;
      case 'clockSkew':
        jws = this.sign.refusal({ ...common, code: 'CLOCK_SKEW' });
        break;
    }
    return { outcome: d.outcome, jws, certified };
  }

  /**
   * `-sai`, `-sri`, `-sprt` together: every value is checked before any changes, and a new port
   * is bound (by `rebind`) before it is stored, so a bad value or a busy port changes nothing.
   */
  async changeSettings(
    changes: Partial<Record<NumericSetting, number>>,
    rebind: (port: number) => Promise<void>,
  ): Promise<void> {
    const entries = Object.entries(changes).filter(([, v]) => v !== undefined) as [NumericSetting, number][];
    if (entries.length === 0) throw new VolactError('BAD_REQUEST', { field: '(body)', problem: 'names no setting' });
    for (const [name, value] of entries) checkSetting(name, value);
    if (changes.port !== undefined && changes.port !== this.settings.port) await rebind(changes.port);
    for (const [name, value] of entries) this.setSetting(name, value);
  }

  /** Stores a checked setting; it is in force for the next answer. */
  setSetting(name: NumericSetting, value: number): void {
    checkSetting(name, value);
    this.store.writeSetting(name, value);
    this.settings[name] = value;
  }

  setAuthority(url: string): void {
    this.store.writeSetting('authorityUrl', url);
    this.settings.authorityUrl = url;
  }

  /** Checks and stores DNS publishing settings (a partial change keeps the rest). */
  setDns(change: Partial<DnsConfig>): DnsConfig {
    const next = checkDns(this.settings.dns, change);
    this.store.writeSetting('dns', next);
    this.settings.dns = next;
    return next;
  }

  setServedNetworks(cidrs: string[]): void {
    checkServedNetworks(cidrs);
    this.store.writeSetting('servedNetworks', cidrs);
    this.settings.servedNetworks = cidrs;
  }

  /** The host's `-dlv`: count against thresholds, port, intervals, requests by outcome and state. */
  status() {
    const now = this.clock.now();
    const tallies = Object.fromEntries(this.batch.tallies);
    const pick = (prefix: string) =>
      Object.fromEntries(
        Object.entries(tallies)
          .filter(([k]) => k.startsWith(prefix))
          .map(([k, v]) => [k.slice(prefix.length), v]),
      );
    return {
      hostName: this.hostName,
      hostId: [...this.certFor.values()][0]?.hostId ?? null,
      activated: this.activated,
      currentCount: this.counter.count(now),
      thresholds: { client: defaults.clientThreshold, server: defaults.serverThreshold },
      countWindowDays: defaults.countWindowMs / 86_400_000,
      port: this.settings.port,
      listenAddress: this.settings.listenAddress,
      servedNetworks: this.settings.servedNetworks,
      retryMinutes: this.settings.retryMinutes,
      renewalMinutes: this.settings.renewalMinutes,
      authorityUrl: this.settings.authorityUrl,
      keys: this.keys().map((k) => ({
        id: k.id,
        partialKey: k.partial,
        group: k.groupNumber,
        activated: k.certificate !== null,
        activatedAt: k.activatedAt,
      })),
      editions:
        this.catalog?.editions
          .filter((e) => this.certFor.has(e.number))
          .map((e) => ({ number: e.number, code: e.code, name: e.name, kind: e.kind })) ?? [],
      requests: {
        total: tallies.total ?? 0,
        failed: tallies.failed ?? 0,
        byOutcome: pick('outcome:'),
        byLicenseState: pick('state:'),
      },
      machinesWithSeveralFingerprints: this.store.machinesWithSeveralFingerprints(),
      now,
    };
  }

  /** Events (the 12290 family), oldest first. */
  events(q: EventQuery) {
    return this.store.events(q);
  }

  /** Machines seen, newest first; `severalFingerprints` lists the ID clashes (cloned images). */
  machines(q: MachineQuery) {
    return this.store.machines(q);
  }

  /** Row counts, for operators and for tests that check bad input wrote nothing. */
  rowCounts(): Record<string, number> {
    return this.store.rowCounts();
  }

  /** Drops events older than `keepMs` so the table stays bounded. */
  pruneEvents(keepMs: number): number {
    return this.store.pruneEvents(this.clock.now() - keepMs);
  }
}
