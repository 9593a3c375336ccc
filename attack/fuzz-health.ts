/**
 * The world's health around a run: resident memory of each server (before, after the warm-up,
 * peak, after), and whether each still answers ordinary requests the right way afterwards.
 */
import { randomUUID } from 'node:crypto';
import { residentMb } from './report.js';
import { activationBody, admin, post } from './harness.js';
import { hashedParts, type World } from './fuzz-world.js';

/**
 * Resident memory of a server: at the start, after the warm-up (V8 grows its heap to what the
 * largest requests need, then keeps it), at its peak, and a moment after the last case.
 */
export type Memory = { beforeMb: number; warmMb: number; peakMb: number; afterMb: number };

/** Samples the servers' resident memory every `everyMs` until finished. */
export class MemoryWatch {
  readonly memory: Record<string, Memory> = {};
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly world: World,
    everyMs = 250,
  ) {
    for (const s of world.servers) {
      const mb = residentMb(s.pid);
      this.memory[s.name] = { beforeMb: mb, warmMb: mb, peakMb: mb, afterMb: NaN };
    }
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const s of this.world.servers) {
      const m = this.memory[s.name]!;
      const mb = residentMb(s.pid);
      if (mb > m.peakMb) m.peakMb = mb;
    }
  }

  /** The warm-up is over: later growth is what the bound is about. */
  warm(): void {
    for (const s of this.world.servers) this.memory[s.name]!.warmMb = residentMb(s.pid);
  }

  /** The last sample, taken after the servers had a moment without traffic. */
  async finish(quietMs = 1000): Promise<Record<string, Memory>> {
    await new Promise((r) => setTimeout(r, quietMs));
    clearInterval(this.timer);
    this.sample();
    for (const s of this.world.servers) this.memory[s.name]!.afterMb = residentMb(s.pid);
    return this.memory;
  }
}

export const rounded = (all: Record<string, Memory>) =>
  Object.fromEntries(
    Object.entries(all).map(([k, m]) => [
      k,
      {
        beforeMb: Math.round(m.beforeMb),
        warmMb: Math.round(m.warmMb),
        peakMb: Math.round(m.peakMb),
        afterMb: Math.round(m.afterMb),
      },
    ]),
  );

/**
 * Ordinary requests after the run, each with the answer a working server gives: a grant from the
 * host, its admin status, the authority's health, its admin API with the admin token, a MAK
 * activation. Returns what went wrong (empty: all answered).
 */
export async function normalRequests(world: World): Promise<string[]> {
  const f = world.fixtures;
  const problems: string[] = [];
  const expect = async (
    what: string,
    run: () => Promise<{ status: number; body: any }>,
    ok: (r: { status: number; body: any }) => boolean,
  ) => {
    try {
      const r = await run();
      if (!ok(r)) problems.push(`${what}: ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
    } catch (err) {
      problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  await expect(
    'host activation',
    () => post(world.hostPort, '/v1/activate', JSON.stringify(activationBody(f.setupKey, Date.now()))),
    (r) => r.status === 200 && typeof r.body.answer === 'string',
  );
  await expect(
    'host admin status',
    () => admin(world.hostDir, 'GET', '/status'),
    (r) => r.status === 200 && r.body.activated === true,
  );
  await expect(
    'authority health',
    () => get(world.authorityPort, '/v1/health'),
    (r) => r.status === 200 && r.body.ok === true,
  );
  await expect(
    'authority admin tokens',
    () => get(world.authorityPort, '/v1/admin/tokens', f.adminToken),
    (r) => r.status === 200 && Array.isArray(r.body),
  );
  const mak = {
    v: 1,
    makKey: f.makKey,
    machineId: randomUUID(),
    parts: hashedParts(),
    nonce: randomUUID().replace(/-/g, ''),
  };
  await expect(
    'authority MAK activation',
    () => post(world.authorityPort, '/v1/mak-activations', JSON.stringify(mak)),
    (r) => r.status === 200 && typeof r.body.grant === 'string',
  );
  return problems;
}

async function get(port: number, path: string, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal: AbortSignal.timeout(10_000),
  });
  return { status: res.status, body: await res.json().catch(() => null) };
}
