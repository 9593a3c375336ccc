import type { Log } from '@volact/io';
import type Database from 'better-sqlite3';
import {
  VolactError,
  licenseStates,
  type ActivateRequest,
  type Clock,
  type Edition,
  type EditionKind,
  type LicenseState,
} from '@volact/protocol';
import type { MachineCounter } from './machine-counter.js';
import { machineIdHasher } from './host-store.js';
import { MachineIndex } from './machine-index.js';
import { LogChain } from './log-chain.js';

/** What the host decided for one request. */
export type Outcome =
  'activated' | 'renewed' | 'countInsufficient' | 'editionNotCovered' | 'clockSkew' | 'notActivated';

/** The request counters' names, made once rather than per request (`-dlv` shows them). */
const outcomeCounter = Object.fromEntries(
  (['activated', 'renewed', 'countInsufficient', 'editionNotCovered', 'clockSkew', 'notActivated'] as const).map(
    (o) => [o, `outcome:${o}`],
  ),
) as Record<Outcome, string>;
const stateCounter = Object.fromEntries(licenseStates.map((s) => [s, `state:${s}`])) as Record<LicenseState, string>;

/** A request after validation, with what the host knows about it before counting. */
export type Pending<A> = {
  req: ActivateRequest;
  address: string;
  /** undefined when the host is not activated (nothing is counted then). */
  edition: Edition | undefined;
  covered: boolean;
  skewed: boolean;
  /** The request's promise: its answer, or INTERNAL when it could not be recorded or answered. */
  resolve: (answer: A) => void;
  reject: (err: VolactError) => void;
};

/** What the batch decided for one request, and the count it decided on. */
export type Decision = { outcome: Outcome; count: number; required: number };

/** What the batch asks of the checkpointer: whether it may commit now, and that it did. */
export type WalGate = { readonly paused: boolean; whenResumed(fn: () => void): void; committed(): void };

/** Turns a decision into the signed answer; runs after the commit. */
export type Answerer<A> = (p: Pending<A>, d: Decision, now: number) => A;

/**
 * What metrics learn from each batch (metrics.ts; nothing without one): the commit's time, and
 * each decision with its edition's kind (undefined when the host is not activated).
 */
export type BatchObserver = {
  committed(seconds: number): void;
  decided(outcome: Outcome, kind: EditionKind | undefined): void;
};

const noObserver: BatchObserver = { committed: () => undefined, decided: () => undefined };

/** The host's thresholds for one edition kind. */
export type Thresholds = (edition: Edition) => number;

/**
 * Group commit: requests that arrive in one turn of the event loop are counted and recorded in
 * one SQLite transaction; every answer is sent only after that transaction has committed.
 */
export class ActivationBatch<A> {
  private queue: Pending<A>[] = [];
  private scheduled = false;
  private readonly sel: Database.Statement<
    [number],
    { id: number; machine_id: string; last_seen: number; fingerprint_hash: string }
  >;
  private readonly index: MachineIndex;
  private readonly ins: Database.Statement;
  private readonly upd: Database.Statement;
  private readonly event: Database.Statement;
  private readonly counter: Database.Statement<[string, number]>;
  private readonly hash: (machineId: string) => number;
  private readonly chain: LogChain;
  readonly tallies = new Map<string, number>();

  constructor(
    private readonly db: Database.Database,
    private readonly machines: MachineCounter,
    private readonly clock: Clock,
    private readonly required: Thresholds,
    private readonly answer: Answerer<A>,
    private readonly log: Log,
    private readonly wal?: WalGate,
    private readonly observer: BatchObserver = noObserver,
  ) {
    // a machine's row is found by the keyed hash of its ID in memory, and confirmed by its ID
    this.hash = machineIdHasher(db);
    this.chain = LogChain.of(db);
    this.index = MachineIndex.load(db);
    this.sel = db.prepare('SELECT id, machine_id, last_seen, fingerprint_hash FROM machines WHERE id = ?');
    this.ins = db.prepare(
      `INSERT INTO machines (machine_id, id_hash, fingerprint_hash, first_seen, last_seen, requests, edition, vm, license_state, last_outcome, machine_name)
       VALUES (?, ?, ?, ?, ?, 1, ?, ?, ?, ?, ?)`,
    );
    this.upd = db.prepare(
      `UPDATE machines SET last_seen = ?, requests = requests + 1, edition = ?, vm = ?, license_state = ?, last_outcome = ?,
         fingerprint_hash = ?, fingerprints = fingerprints + ?, machine_name = coalesce(?, machine_name) WHERE id = ?`,
    );
    this.event = db.prepare(
      'INSERT INTO events (at, event, machine_id, vm, license_state, edition, outcome, count, required, address, seq, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.counter = db.prepare(
      'INSERT INTO counters (name, n) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET n = n + excluded.n',
    );
    for (const row of db.prepare('SELECT name, n FROM counters').all() as { name: string; n: number }[])
      this.tallies.set(row.name, row.n);
  }

  /** The machine's row, if it has one: by the hash of its ID, confirmed by the ID itself. */
  private find(hash: number, machineId: string) {
    for (const id of this.index.rowsOf(hash)) {
      const row = this.sel.get(id);
      if (row?.machine_id === machineId) return row;
    }
    return undefined;
  }

  /** Inserts the request's event 12290, linked into the host log (log-chain.ts). */
  private recordEvent(p: Pending<A>, now: number, outcome: Outcome, count: number, required: number): void {
    const { req } = p;
    // in the order log-chain.ts hashes them (eventFields)
    const fields = [
      now,
      12290,
      req.machineId,
      req.vm ? 1 : 0,
      req.licenseState,
      p.edition?.number ?? 0,
      outcome,
      count,
      required,
      p.address,
    ] as const;
    const link = this.chain.link('event', fields);
    this.event.run(...fields, link.seq, link.prev, link.hash);
  }

  submit(p: Pending<A>): void {
    this.queue.push(p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    if (this.wal?.paused) {
      // the log is being brought to its end so it can start over: the batch grows meanwhile
      this.wal.whenResumed(() => this.flush());
      return;
    }
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    const now = this.clock.now();
    const decisions: Decision[] = [];
    const bumps = new Map<string, number>();
    const bump = (name: string) => bumps.set(name, (bumps.get(name) ?? 0) + 1);
    /** hash, row of each machine inserted in this batch (taken back if the transaction fails) */
    const added: number[] = [];
    const head = this.chain.mark();
    const started = performance.now();
    try {
      this.db
        .transaction(() => {
          const cutoff = this.machines.cutoff(now);
          let count = this.machines.count(now);
          for (const p of batch) {
            const { req } = p;
            let outcome: Outcome;
            let required = 0;
            if (!p.edition) outcome = 'notActivated';
            else if (p.skewed) outcome = 'clockSkew';
            else if (!p.covered) outcome = 'editionNotCovered';
            else {
              required = this.required(p.edition);
              const hash = this.hash(req.machineId);
              const prev = this.find(hash, req.machineId);
              // The host adds the machine to its count, then compares (as a KMS host does).
              if (!prev || prev.last_seen < cutoff) count++;
              this.machines.moved(prev?.last_seen, now);
              outcome =
                count < required ? 'countInsufficient' : req.licenseState === 'licensed' ? 'renewed' : 'activated';
              const vm = req.vm ? 1 : 0;
              const name = req.machineName ?? null;
              if (prev)
                this.upd.run(
                  now,
                  p.edition.number,
                  vm,
                  req.licenseState,
                  outcome,
                  req.fingerprintHash,
                  prev.fingerprint_hash === req.fingerprintHash ? 0 : 1,
                  name,
                  prev.id,
                );
              else {
                const row = Number(
                  this.ins.run(
                    req.machineId,
                    hash,
                    req.fingerprintHash,
                    now,
                    now,
                    p.edition.number,
                    vm,
                    req.licenseState,
                    outcome,
                    name,
                  ).lastInsertRowid,
                );
                this.index.add(hash, row);
                added.push(hash, row);
              }
            }
            if (p.edition && !required) required = this.required(p.edition);
            this.recordEvent(p, now, outcome, count, required);
            bump('total');
            bump(outcomeCounter[outcome]);
            bump(stateCounter[req.licenseState]);
            if (outcome !== 'activated' && outcome !== 'renewed' && outcome !== 'countInsufficient') bump('failed');
            decisions.push({ outcome, count, required });
          }
          for (const [name, n] of bumps) this.counter.run(name, n);
          this.machines.flush(now);
        })
        .immediate();
    } catch (err) {
      // the transaction rolled back; so must the in-memory tallies, index and chain head
      this.machines.reload();
      this.chain.reset(head);
      for (let i = 0; i < added.length; i += 2) this.index.remove(added[i]!, added[i + 1]!);
      const id = `batch-${now}`;
      this.log.error({ requestId: id, error: err instanceof Error ? err.stack : String(err) }, 'batch failed');
      const failed = new VolactError('INTERNAL', { requestId: id });
      for (const p of batch) p.reject(failed);
      return;
    }
    this.wal?.committed();
    this.observer.committed((performance.now() - started) / 1000);
    for (const [name, n] of bumps) this.tallies.set(name, (this.tallies.get(name) ?? 0) + n);
    for (let i = 0; i < batch.length; i++) {
      const p = batch[i]!;
      this.observer.decided(decisions[i]!.outcome, p.edition?.kind);
      try {
        p.resolve(this.answer(p, decisions[i]!, now));
      } catch (err) {
        // logged under the request's nonce, which the answer names, so the two can be matched
        const requestId = p.req.nonce;
        this.log.error({ requestId, error: err instanceof Error ? err.stack : String(err) }, 'answer failed');
        p.reject(new VolactError('INTERNAL', { requestId }));
      }
    }
  }
}

export type { LicenseState };
