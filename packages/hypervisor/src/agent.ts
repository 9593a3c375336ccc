import type Database from 'better-sqlite3';
import {
  DOC_VERSION,
  VolactError,
  defaults,
  docTypes,
  hypervisorCertKind,
  hypervisorIdFor,
  rawPublicKey,
  signer,
  type Clock,
  type KeyPair,
  type OfflineBundle,
  type Root,
  type VmActivateRequest,
  type VmAnswerBundle,
} from '@volact/protocol';
import { HostActivation, type HostCertificate, type KeyActivation, type Signed } from '@volact/host';
import { getJson, postJson, type Get, type Post } from '@volact/io';
import { AgentStore, type GuestEvent, type GuestEventQuery, type GuestOutcome } from './agent-store.js';
import { decideGuest } from './guest-decision.js';
import type { Inventory } from './inventory.js';

/** The settings `hypervisor serve` stores so that a restart needs only --state. */
export type AgentSettings = {
  authorityUrl: string | null;
  name: string | null;
  inventory: string | null;
  listen: string[];
  bridges: string[];
};

export const defaultListen = `${defaults.vmAgentAddress}:${defaults.vmAgentPort}`;

/** What the guest channel answers: a signed grant with the certificate that covers it, or an error. */
export type GuestAnswer =
  { outcome: 'success'; body: VmAnswerBundle } | { outcome: Exclude<GuestOutcome, 'success'>; error: VolactError };

/** What is known of a request on the guest channel besides its body. */
export type RequestSource = { address: string | null; mac: string | null };

export type AgentOptions = {
  db: Database.Database;
  clock: Clock;
  keyPair: KeyPair;
  roots: Root[];
  inventory: Inventory;
  /** The name to go by when none is stored: the machine's. */
  machineName: string;
  offlineBundle?: OfflineBundle;
  postAuthority?: Post;
  /** Reads from the authority (-upd-catalog's GET /v1/catalog). */
  getAuthority?: Get;
};

/**
 * The hypervisor agent: its own activation (datacenter keys, a hypervisor certificate, done once
 * with the authority) and its guests' activation, which never leaves this machine.
 */
export class HypervisorAgent {
  readonly store: AgentStore;
  readonly settings: AgentSettings;
  readonly inventory: Inventory;
  private readonly activation: HostActivation;
  private readonly clock: Clock;
  private readonly signGrant: (payload: object) => string;
  private readonly machineName: string;
  private readonly postAuthority: Post;
  private readonly getAuthority: Get;
  readonly publicKey: string;
  /** Where the guest channel listens now (runAgent sets it once bound); `-dlv` shows it. */
  listening: string[] = [];

  constructor(opts: AgentOptions) {
    this.store = new AgentStore(opts.db);
    this.clock = opts.clock;
    this.inventory = opts.inventory;
    this.machineName = opts.machineName;
    this.postAuthority = opts.postAuthority ?? postJson;
    this.getAuthority = opts.getAuthority ?? getJson;
    this.publicKey = rawPublicKey(opts.keyPair.publicKey);
    const s = this.store.settings();
    this.settings = {
      authorityUrl: (s.authorityUrl as string | undefined) ?? null,
      name: (s.name as string | undefined) ?? null,
      inventory: (s.inventory as string | undefined) ?? null,
      listen: (s.listen as string[] | undefined) ?? [defaultListen],
      bridges: (s.bridges as string[] | undefined) ?? [],
    };
    this.activation = new HostActivation(
      this.store,
      this.clock,
      opts.roots,
      this.publicKey,
      () => this.name,
      opts.offlineBundle,
      hypervisorCertKind,
    );
    this.signGrant = signer(opts.keyPair, docTypes.vmGrant, DOC_VERSION);
    this.activation.load();
  }

  get name(): string {
    return this.settings.name ?? this.machineName;
  }

  get id(): string {
    return hypervisorIdFor(this.publicKey);
  }

  get activated(): boolean {
    return this.activation.certFor.size > 0;
  }

  /** Stores a setting `hypervisor serve` was given, for the next start. */
  setSetting<K extends keyof AgentSettings>(name: K, value: AgentSettings[K]): void {
    this.store.writeSetting(name, value);
    this.settings[name] = value;
  }

  installKey(typed: string) {
    return this.activation.installKey(typed);
  }

  uninstallKey(which: string): number {
    return this.activation.uninstallKey(which);
  }

  /** `-ato`: activates the datacenter keys with the authority (POST /v1/hypervisor-activations). */
  activate(force: boolean): Promise<KeyActivation[]> {
    if (!this.settings.authorityUrl)
      throw new VolactError('USAGE', {
        detail:
          'the hypervisor agent has no authority URL; start it once with volact hypervisor serve --authority URL, or activate offline with -dti and -atp',
      });
    return this.activation.activate(this.settings.authorityUrl, force, this.postAuthority);
  }

  installationIds() {
    return this.activation.installationIds();
  }

  applyConfirmation(cid: string) {
    return this.activation.applyConfirmation(cid);
  }

  /** `-upd-catalog`: a newer catalog adds guest editions (with a VM key) to the datacenter keys' groups. */
  updateCatalog(offered: Signed | undefined) {
    return this.activation.updateCatalog(offered, this.settings.authorityUrl, this.getAuthority);
  }

  /** Records a request the guest channel refused before its body could be read (bad JSON, too large…). */
  recordRefused(outcome: Exclude<GuestOutcome, 'success'>, error: VolactError, src: RequestSource, vmUuid?: string) {
    this.store.record(this.event(outcome, src, { vmUuid, error }));
  }

  /**
   * One guest's request, well formed: decides (guest-decision.ts), signs a 7-day grant on
   * success, and records the event and the guest's row before answering.
   */
  async activateGuest(req: VmActivateRequest, src: RequestSource): Promise<GuestAnswer> {
    const now = this.clock.now();
    let vm;
    try {
      vm = await this.inventory.lookup(req.vmUuid);
    } catch (err) {
      if (!(err instanceof VolactError)) throw err;
      this.store.record(this.event('invalidHost', src, { req, error: err }));
      return { outcome: 'invalidHost', error: err };
    }
    const d = decideGuest(req, {
      catalog: this.activation.catalog,
      vm,
      mac: src.mac ?? undefined,
      certFor: this.activation.certFor,
      now,
    });
    // A guest's row changes only when the request came from that VM's own interface: another
    // caller claiming its UUID is an event, never a change to the VM's compliance record.
    const proven =
      d.outcome === 'success' || (d.outcome === 'denied' && (d.reason === 'edition' || d.reason === 'clockSkew'));
    const guest = (grantedUntil: number | null) =>
      vm && proven ? { vmName: vm.name, machineName: req.machineName ?? null, grantedUntil } : undefined;
    if (d.outcome !== 'success') {
      const reason = d.outcome === 'denied' ? d.reason : null;
      const e = this.event(d.outcome, src, { req, edition: d.edition?.number, error: d.error, reason });
      this.store.record(e, guest(null));
      return { outcome: d.outcome, error: d.error };
    }
    const answer = this.grant(req, d.edition, d.certified, now);
    this.store.record(this.event('success', src, { req, edition: d.edition.number }), guest(answer.validUntil));
    return { outcome: 'success', body: answer.body };
  }

  private grant(
    req: VmActivateRequest,
    edition: { number: number; code: string; name: string },
    certified: HostCertificate,
    now: number,
  ) {
    const validUntil = Math.min(now + defaults.vmValidityMs, certified.notAfter ?? Infinity);
    const grant = this.signGrant({
      machineId: req.machineId,
      vmUuid: req.vmUuid,
      fingerprintHash: req.fingerprintHash,
      nonce: req.nonce,
      edition: edition.number,
      editionCode: edition.code,
      editionName: edition.name,
      hypervisorId: certified.hostId,
      hypervisorName: this.name,
      issuedAt: now,
      validUntil,
      renewalMinutes: defaults.vmRenewalMinutes,
    });
    const body: VmAnswerBundle = { grant, certificate: certified.certificate, issuer: certified.issuer };
    // a guest edition a newer catalog added to the certificate's group: the guest checks it with that catalog
    if (certified.catalog)
      Object.assign(body, { catalog: certified.catalog.jws, catalogIssuer: certified.catalog.issuer });
    return { validUntil, body };
  }

  private event(
    outcome: GuestOutcome,
    src: RequestSource,
    o: { req?: VmActivateRequest; vmUuid?: string; edition?: number; error?: VolactError; reason?: string | null },
  ): GuestEvent {
    return {
      at: this.clock.now(),
      event: 12310,
      vmUuid: o.req?.vmUuid ?? o.vmUuid ?? null,
      machineId: o.req?.machineId ?? null,
      edition: o.edition ?? null,
      outcome,
      reason: o.reason ?? null,
      code: o.error?.code ?? null,
      address: src.address,
      mac: src.mac,
    };
  }

  /** The guests of the inventory that asked, with the code of each one's edition. */
  guests() {
    return this.store.guests().map((g) => ({ ...g, editionCode: this.editionCode(g.edition) }));
  }

  /** Guest-channel events (12310), oldest first, with the code of each request's edition. */
  events(q: GuestEventQuery) {
    return this.store.events(q).map((e) => ({ ...e, editionCode: this.editionCode(e.edition) }));
  }

  private editionCode(edition: number | null): string | null {
    return this.activation.catalog?.editions.find((e) => e.number === edition)?.code ?? null;
  }

  pruneEvents(keepMs: number): number {
    return this.store.pruneEvents(this.clock.now() - keepMs);
  }

  /** `-dli` / `-dlv`: the agent, its keys and editions, its inventory, its listeners, its guests by outcome. */
  async status() {
    const keys = this.activation.keys();
    const editions = new Map<number, { number: number; code: string; name: string }>();
    for (const e of this.activation.catalog?.editions ?? [])
      if (this.activation.certFor.has(e.number))
        editions.set(e.number, { number: e.number, code: e.code, name: e.name });
    let vms: number | null = null;
    let inventoryError: string | null = null;
    try {
      vms = (await this.inventory.list()).length;
    } catch (err) {
      inventoryError = err instanceof VolactError ? err.message : String(err);
    }
    const tallies = this.store.tallies();
    return {
      name: this.name,
      hypervisorId: this.id,
      activated: this.activated,
      authorityUrl: this.settings.authorityUrl,
      keys: keys.map((k) => ({
        id: k.id,
        partialKey: k.partial,
        group: k.groupNumber,
        activated: k.certificate !== null,
        activatedAt: k.activatedAt,
      })),
      guestEditions: [...editions.values()],
      inventory: { source: this.inventory.source, vms, error: inventoryError },
      listen: this.listening.length ? this.listening : this.settings.listen,
      bridges: this.settings.bridges,
      guests: tallies.guests,
      requests: tallies.requests,
      grantValidityDays: defaults.vmValidityMs / 86_400_000,
      renewalMinutes: defaults.vmRenewalMinutes,
    };
  }
}
