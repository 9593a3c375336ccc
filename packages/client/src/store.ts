import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  VolactError,
  defaults,
  hashedFingerprint,
  parseOfflineBundle,
  publicKeyFromPem,
  rootFromKey,
  sameHardware,
  sameMachine,
  type Clock,
  type Fingerprint,
  type OfflineBundle,
  type Root,
} from '@volact/protocol';
import type { Get, Post } from '@volact/io';
import { appendEvent, type ClientEvent } from './events.js';
import { readFingerprint } from './fingerprint.js';
import { readStored, type StoredRead } from './stored-license.js';
import { loadState, saveLicense, saveState, type AnyLicense, type ClientState } from './state.js';
import type { postActivate } from './transport.js';
import type { VmIdentitySource } from './vm-identity.js';

/** What a client works with: its state directory, clock, environment and the ways it reaches hosts and the authority. */
export type ClientContext = {
  dir: string;
  clock: Clock;
  env: NodeJS.ProcessEnv;
  post: typeof postActivate;
  postAuthority: Post;
  getAuthority: Get;
  /** How the VM UUID and boot ID are read (the system's when absent; tests inject their own). */
  vmIdentity?: VmIdentitySource;
};

/** root.pub: the publisher's root every answer must chain to. */
export function readRoots(dir: string): Root[] {
  const path = join(dir, 'root.pub');
  if (!existsSync(path)) throw new VolactError('ROOT_NOT_PINNED', { dir });
  try {
    return [rootFromKey(publicKeyFromPem(readFileSync(path, 'utf8')))];
  } catch (err) {
    throw new VolactError('STATE_CORRUPT', { file: path, detail: err instanceof Error ? err.message : String(err) });
  }
}

/** offline.json: the offline bundle installed with client trust (root, offline issuer, catalog). */
export function readOfflineBundle(dir: string): OfflineBundle {
  const path = join(dir, 'offline.json');
  if (!existsSync(path)) throw new VolactError('OFFLINE_BUNDLE_MISSING', { dir });
  const bundle = parseOfflineBundle(readFileSync(path, 'utf8'));
  if (!bundle) throw new VolactError('STATE_CORRUPT', { file: path, detail: 'not an offline bundle' });
  return bundle;
}

/** A new machine ID; an operator-set identity (VDI pool member, container) gives the same ID on every rebuild. */
export function newMachine(fp: Fingerprint, identity: string | null, now: number): ClientState['machine'] {
  const id = identity
    ? 'M' + createHash('sha256').update(`volact-machine/${identity}`).digest('base64url').slice(0, 22)
    : randomUUID();
  return { id, madeFor: fp, createdAt: now, identity };
}

function firstState(fp: Fingerprint, now: number): ClientState {
  return {
    v: 1,
    key: null,
    graceStart: now,
    machine: newMachine(fp, null, now),
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
    vmAgent: null,
  };
}

/**
 * The client's files, read once per command: state.json when the store is opened, root.pub,
 * license.json (verified) and offline.json when first asked for. Only verbs write, through
 * save() and saveLicense(); views read the store and never write.
 */
export class ClientStore {
  private rootsRead: Root[] | undefined;
  private offlineRead: OfflineBundle | undefined;
  private licenseRead: StoredRead | undefined;

  /** Set by peek() when the state was made on another OS installation and open() would renew the machine ID. */
  renewalPending = false;

  private constructor(
    readonly ctx: ClientContext,
    readonly state: ClientState,
    /** This machine's fingerprint as the OS reports it (read once). */
    readonly osFingerprint: Fingerprint,
    /** A store from peek(): it observes in memory only and refuses to write. */
    readonly readOnly = false,
  ) {}

  /**
   * Opens the state directory, creating the state on first use (the "installation" whose date
   * starts the initial grace). What the machine observes is recorded now, the one write an
   * opening makes, because each is a fact that must be kept the first time it is seen: a cloned
   * image (another OS identity) gets a new machine ID, local time passing is remembered (so
   * turning the clock back does not reopen a grace period), and hardware leaving a MAK
   * activation's tolerance starts its 30 days of out-of-tolerance grace.
   */
  static open(ctx: ClientContext): ClientStore {
    const now = ctx.clock.now();
    const loaded = loadState(ctx.dir);
    const osFp = readFingerprint(ctx.env);
    if (!loaded) {
      const store = new ClientStore(ctx, firstState(osFp, now), osFp);
      store.save();
      return store;
    }
    const store = new ClientStore(ctx, loaded, osFp);
    if (store.observeMachine(now)) store.save();
    if (store.observeHardware(now)) store.save();
    return store;
  }

  /**
   * The state directory as open() would see it, writing nothing: what open() would record (time
   * passing, hardware beyond a MAK's tolerance) is applied in memory only, and a cloned image
   * gets no new machine ID: its stored activation counts as none (as after a renewal) and
   * renewalPending says so, until volact next runs as root. Undefined when there is no state.
   * An unprivileged reader cannot read the board's serial (root only): it takes the one root
   * recorded, as it takes the VM UUID root recorded (vm-identity.ts), so the product sees what
   * root sees.
   */
  static peek(ctx: ClientContext): ClientStore | undefined {
    const loaded = loadState(ctx.dir);
    if (!loaded) return undefined;
    const os = readFingerprint(ctx.env);
    const osFp = os.board === '' ? { ...os, board: loaded.machine.madeFor.board } : os;
    const store = new ClientStore(ctx, loaded, osFp, true);
    const now = ctx.clock.now();
    store.observeMachine(now);
    store.observeHardware(now);
    return store;
  }

  get dir(): string {
    return this.ctx.dir;
  }

  now(): number {
    return this.ctx.clock.now();
  }

  /** The fingerprint this machine is judged by: an explicit identity stands for the OS identity. */
  fingerprint(): Fingerprint {
    const identity = this.state.machine.identity;
    return identity ? { ...this.osFingerprint, osId: `identity:${identity}` } : this.osFingerprint;
  }

  roots(): Root[] {
    return (this.rootsRead ??= readRoots(this.dir));
  }

  offlineBundle(): OfflineBundle {
    return (this.offlineRead ??= readOfflineBundle(this.dir));
  }

  /** license.json, read and verified for this machine once (again after a write). */
  stored(): StoredRead {
    return (this.licenseRead ??= readStored(this));
  }

  save(): void {
    this.refuseWrite();
    saveState(this.dir, this.state);
    // what verifies depends on the state (key, machine, directory): verify again when next read
    this.licenseRead = undefined;
  }

  saveLicense(license: AnyLicense | null): void {
    this.refuseWrite();
    saveLicense(this.dir, license);
    this.licenseRead = undefined;
  }

  event(e: ClientEvent): void {
    this.refuseWrite();
    appendEvent(this.dir, e);
  }

  private refuseWrite(): void {
    if (this.readOnly) throw new Error(`internal: a read-only view of ${this.dir} was asked to write`);
  }

  /** Clock moves and a cloned image; true when the state changed. */
  private observeMachine(now: number): boolean {
    const s = this.state;
    let dirty = false;
    // remember local time as it passes, so turning the clock back does not reopen the initial grace
    if (now > s.localHighWater + 60_000) {
      s.localHighWater = now;
      dirty = true;
    }
    if (s.lastAttempt && s.lastAttempt.at > now) {
      // the clock was set back since: the attempt counts as made now, so retries are not stalled
      s.lastAttempt = { ...s.lastAttempt, at: now };
      dirty = true;
    }
    const fp = this.fingerprint();
    const same = sameMachine(s.machine.madeFor, fp);
    if (same.clone) {
      // Another OS identity than the one the ID was made on: a cloned image, so a new machine ID.
      // (Hardware changes keep the ID; a MAK activation judges them against its own record.)
      const old = s.machine.id;
      s.machine = newMachine(fp, s.machine.identity, now);
      s.lastAttempt = null;
      if (this.readOnly) {
        this.renewalPending = true;
        return true;
      }
      this.event({
        event: 'machineIdRenewed',
        at: now,
        oldMachineId: old,
        machineId: s.machine.id,
        reason: 'the OS machine identity changed (cloned image)',
      });
      return true;
    }
    if (!dirty && same.changed.length === 0) return false;
    s.machine.madeFor = fp;
    return true;
  }

  /** The hardware against a MAK activation's record; true when the out-of-tolerance start changed. */
  private observeHardware(now: number): boolean {
    const mak = this.stored().mak;
    if (!mak) return false;
    const s = this.state;
    const sameHw = sameHardware(mak.grant.parts, hashedFingerprint(this.fingerprint()));
    if (!sameHw && s.outOfToleranceSince === null) {
      // first seen now: the 30 days of out-of-tolerance grace start here
      s.outOfToleranceSince = Math.max(now, s.localHighWater);
      return true;
    }
    if (sameHw && s.outOfToleranceSince !== null) {
      // the parts are back (a card put back): a later change starts a fresh grace period
      s.outOfToleranceSince = null;
      return true;
    }
    return false;
  }
}
