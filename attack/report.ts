/**
 * What every attack script shares: reading a process's resident memory, and the report (the
 * figures as lines a person reads, then one JSON line a test reads; exit 1 when a pass
 * condition failed).
 */
import { readFileSync } from 'node:fs';

/** Resident memory of a process in MB (VmRSS), or NaN when it is gone. */
export function residentMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

export type Check = { name: string; ok: boolean; detail: string };

/** Prints the figures and the checks, then the JSON line; returns the exit code. */
export function report(title: string, figures: Record<string, unknown>, checks: Check[]): number {
  console.log(title);
  for (const [k, v] of Object.entries(figures))
    console.log(`  ${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`);
  for (const c of checks) console.log(`  ${c.ok ? 'PASS' : 'FAIL'} ${c.name}: ${c.detail}`);
  const ok = checks.every((c) => c.ok);
  console.log(`  ${ok ? 'all checks passed' : 'SOME CHECKS FAILED'}`);
  console.log(JSON.stringify({ attack: title, ok, figures, checks }));
  return ok ? 0 : 1;
}
