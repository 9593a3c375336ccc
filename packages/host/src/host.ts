import type Database from 'better-sqlite3';
import {
  DOC_VERSION,
  VolactError,
  decodeKey,
  defaults,
  docTypes,
  rawPublicKey,
  signer,
  thresholdFor,
  type ActivateRequest,
  type Clock,
  type Edition,
  type KeyPair,
  type OfflineBundle,
  type Root,
} from '@volact/protocol';
import { defaultLog, getJson, postJson, type Get, type Post, type Log } from '@volact/io';
import {
  ActivationBatch,
  type BatchObserver,
  type Decision,
  type Outcome,
  type Pending,
  type WalGate,
} from './activation-batch.js';
import { HostActivation, type CatalogUpdate, type HostCertificate, type KeyActivation } from './host-activation.js';
import type { Signed } from './key-store.js';
import { HostStore, type CheckpointSign, type EventQuery, type MachineQuery, type InstalledKey } from './host-store.js';
import { checkpointSigner } from './log-checkpoint.js';
import { hostStatus } from './host-status.js';
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
  type ProcessPriority,
} from './settings.js';
import { applyPriority } from './priority.js';
import type { DnsConfig } from './dns-publisher.js';

export type { HostCertificate };

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
  log?: Log;
  /** Talks to the authority; injected so tests can see exactly what is sent. */
  postAuthority?: Post;
  /** Reads from the authority (-upd-catalog's GET /v1/catalog); injected like postAuthority. */
  getAuthority?: Get;
  /** The publisher's offline bundle, for offline activation (-dti / -atp) of an air-gapped host. */
  offlineBundle?: OfflineBundle;
  /** Checkpoints the log off the commit path (runHost gives one; without it SQLite checkpoints in commits). */
  wal?: WalGate;
  /** Sets the process's priority (applyPriority); injected so tests can refuse it as the system would. */
  prioritize?: (priority: ProcessPriority) => void;
  /** Sees each batch's commit time and decisions (metrics.ts); nothing without one. */
  batchObserver?: BatchObserver;
};

/**
 * The activation host: keys, activation with the authority, counting and answering clients. Its own
 * activation is kept by HostActivation and its `-dlv` built by hostStatus; answering clients is here.
 */
export class Host {
  readonly settings: HostSettings;
  private readonly store: HostStore;
  private readonly clock: Clock;
  private readonly keyPair: KeyPair;
  private readonly log: Log;
  private readonly batch: ActivationBatch<ActivationAnswer>;
  private readonly counter: MachineCounter;
  private readonly activation: HostActivation;
  private readonly bySetupKey: Map<string, Edition>;
  private readonly certFor: Map<number, HostCertificate>;
  private readonly sign: Record<'grant' | 'countInsufficient' | 'refusal', (payload: object) => string>;
  readonly startedAt: number;
  private readonly machineName: string;
  private readonly postAuthority: Post;
  private readonly prioritize: (priority: ProcessPriority) => void;
  private readonly getAuthority: Get;
  private readonly signCheckpoint: CheckpointSign;

  constructor(opts: HostOptions) {
    this.store = new HostStore(opts.db);
    this.clock = opts.clock;
    this.keyPair = opts.keyPair;
    this.machineName = opts.hostName;
    this.log = opts.log ?? defaultLog('host');
    this.postAuthority = opts.postAuthority ?? postJson;
    this.prioritize = opts.prioritize ?? ((p) => applyPriority(p));
    this.getAuthority = opts.getAuthority ?? getJson;
    this.settings = settingsFrom(this.store.settings());
    this.activation = new HostActivation(
      this.store,
      this.clock,
      opts.roots,
      this.publicKey,
      () => this.hostName,
      opts.offlineBundle,
    );
    this.bySetupKey = this.activation.bySetupKey;
    this.certFor = this.activation.certFor;
    this.sign = {
      grant: signer(this.keyPair, docTypes.grant, DOC_VERSION),
      countInsufficient: signer(this.keyPair, docTypes.countInsufficient, DOC_VERSION),
      refusal: signer(this.keyPair, docTypes.refusal, DOC_VERSION),
    };
    this.signCheckpoint = checkpointSigner(this.keyPair);
    this.counter = new MachineCounter(opts.db, defaults.countWindowMs);
    this.batch = new ActivationBatch(
      opts.db,
      this.counter,
      this.clock,
      (e) => thresholdFor(e.kind),
      (p, d, now) => this.answer(p, d, now),
      this.log,
      opts.wal,
      opts.batchObserver,
    );
    this.startedAt = this.clock.now();
    this.activation.load();
  }

  /** The stored `--name`, else the machine's name: shown to clients, and the default SRV target. */
  get hostName(): string {
    return this.settings.hostName ?? this.machineName;
  }

  /** `host serve --name NAME` stores it for later starts; '' goes back to the machine's name. */
  setHostName(name: string): void {
    checkHostName(name);
    this.writeSetting('hostName', name || null);
    this.settings.hostName = name || null;
  }

  /** `host serve --listen ADDRESS`, stored once the host listens there. */
  setListenAddress(address: string): void {
    checkListenAddress(address);
    this.writeSetting('listenAddress', address);
    this.settings.listenAddress = address;
  }

  get publicKey(): string {
    return rawPublicKey(this.keyPair.publicKey);
  }

  /** Why the host cannot answer clients now (readiness), or nothing when it can. */
  notReady(): string[] {
    const reasons: string[] = [];
    try {
      this.store.ping();
    } catch (err) {
      // the driver's words go to the operator's log, not to a probe's answer
      this.log.error({ error: err instanceof Error ? err.message : String(err) }, 'not ready');
      reasons.push('its database does not answer (the host log names the error)');
    }
    if (!this.activated) reasons.push('it is not activated (volact slmgr --host DIR -ato)');
    return reasons;
  }

  get activated(): boolean {
    return this.certFor.size > 0;
  }

  keys(): InstalledKey[] {
    return this.activation.keys();
  }

  /** `-ipk` on a host: installs a host key (one per product group; a new one replaces the old). */
  installKey(typed: string): { id: string; partial: string; group: number } {
    return this.activation.installKey(typed);
  }

  /** `-upk` on a host: removes a key by its ID or last five characters. */
  uninstallKey(which: string): number {
    return this.activation.uninstallKey(which);
  }

  /** `-ato` on a host: activates every installed key with the authority (see HostActivation.activate). */
  activate(force = false): Promise<KeyActivation[]> {
    // The post is read per call, not fixed in HostActivation: host.test.ts swaps it to lose an answer.
    return this.activation.activate(this.settings.authorityUrl, force, this.postAuthority);
  }

  /** `-dti` on a host: the installation ID of each installed host key for this host's own key pair. */
  installationIds(): { id: string; group: number; activated: boolean; installationId: string }[] {
    return this.activation.installationIds();
  }

  /** `-atp CID` on a host: activates the installed key the typed confirmation covers. */
  applyConfirmation(cidText: string): { id: string; group: string } {
    return this.activation.applyConfirmation(cidText);
  }

  /** `-upd-catalog` on a host: a newer catalog, from the authority or a file (see HostActivation.updateCatalog). */
  updateCatalog(offered: Signed | undefined): Promise<CatalogUpdate> {
    return this.activation.updateCatalog(offered, this.settings.authorityUrl, this.getAuthority);
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
    this.writeSetting(name, value);
    this.settings[name] = value;
  }

  /**
   * `-spri` (low) and `-cpri` (normal): applied to the running process first, then stored for
   * every later start, so a priority the system refuses is not stored either.
   */
  setPriority(priority: ProcessPriority): void {
    this.prioritize(priority);
    this.writeSetting('priority', priority);
    this.settings.priority = priority;
  }

  setAuthority(url: string): void {
    this.writeSetting('authorityUrl', url);
    this.settings.authorityUrl = url;
  }

  /** Checks and stores DNS publishing settings (a partial change keeps the rest). */
  setDns(change: Partial<DnsConfig>): DnsConfig {
    const next = checkDns(this.settings.dns, change);
    this.writeSetting('dns', next);
    this.settings.dns = next;
    return next;
  }

  setServedNetworks(cidrs: string[]): void {
    checkServedNetworks(cidrs);
    this.writeSetting('servedNetworks', cidrs);
    this.settings.servedNetworks = cidrs;
  }

  /** The count now, as `-dlv` shows it, without the rest of the status (metrics read it at each scrape). */
  currentCount(): number {
    return this.counter.count(this.clock.now());
  }

  /** The host's `-dlv`: count against thresholds, port, intervals, requests by outcome and state. */
  status() {
    return hostStatus(this.clock.now(), this.hostName, {
      settings: this.settings,
      activation: this.activation,
      tallies: this.batch.tallies,
      counter: this.counter,
      store: this.store,
    });
  }

  /** Every edition of the catalog in force (the console names machines' editions with it). */
  catalogEditions(): { number: number; name: string; kind: 'client' | 'server' }[] {
    return this.activation.catalog?.editions.map((e) => ({ number: e.number, name: e.name, kind: e.kind })) ?? [];
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

  /** Drops events (and settings changes) older than `keepMs` from the front of the log, after a checkpoint. */
  pruneEvents(keepMs: number): number {
    const now = this.clock.now();
    return this.logged((sign) => this.store.pruneEvents(now - keepMs, sign, now));
  }

  /**
   * Runs a store call that may sign checkpoints, then logs one info line per checkpoint it
   * stored ({seq, hash, at}, "log checkpoint"): a witness outside host.db that the journal or a
   * remote syslog keeps (docs/operations.md#verifying-the-host-log). Nothing is logged when the
   * call fails: its transaction rolled back.
   */
  private logged<T>(fn: (sign: CheckpointSign) => T): T {
    const signed: Parameters<CheckpointSign>[0][] = [];
    const r = fn((c) => {
      const jws = this.signCheckpoint(c);
      signed.push(c);
      return jws;
    });
    for (const c of signed)
      this.log.info({ seq: c.seq, hash: c.hash, at: new Date(c.at).toISOString() }, 'log checkpoint');
    return r;
  }

  /**
   * Writes a signed checkpoint of the log's head when records were added since the newest
   * checkpoint, or it is older than `maxAgeMs` (run-host.ts: at start and every hour with a day,
   * at a clean shutdown without). Returns the seq signed, or undefined when none was due.
   */
  checkpointLog(maxAgeMs = Infinity): number | undefined {
    const now = this.clock.now();
    const last = this.store.lastCheckpoint();
    const due = !last || last.seq !== this.store.logHead() || now - last.at >= maxAgeMs;
    return due ? this.logged((sign) => this.store.writeCheckpoint(sign, now)).seq : undefined;
  }

  /** Stores a setting, chaining the change in the host log with the host's time. */
  private writeSetting(name: string, value: unknown): void {
    this.store.writeSetting(name, value, this.clock.now());
  }
}
