import { VolactError } from '@volact/protocol';
import { VmUuidUnverifiable } from './vm-identity.js';

/**
 * What is wrong with license.json: it cannot be read or does not verify, or it was issued to
 * another machine, or (a VM activation read by an unprivileged user) it cannot be checked
 * against this machine's VM UUID in this boot.
 */
export type LicenseProblem =
  | { kind: 'damaged'; error: VolactError }
  | { kind: 'foreign'; theirs: string; ours: string }
  | { kind: 'unverifiable'; error: VolactError };

/** Classifies a failure to read or verify license.json (`file`). */
export function licenseProblem(err: unknown, file: string): LicenseProblem {
  if (!(err instanceof VolactError)) {
    return {
      kind: 'damaged',
      error: new VolactError('STATE_CORRUPT', {
        file,
        detail: `it is not of the shape volact writes (${err instanceof Error ? err.message : String(err)})`,
      }),
    };
  }
  if (err instanceof VmUuidUnverifiable) return { kind: 'unverifiable', error: err };
  if (err.code === 'ANSWER_MACHINE_MISMATCH')
    return { kind: 'foreign', theirs: String(err.params.theirs), ours: String(err.params.ours) };
  // the file itself, or a damaged or missing root.pub: those errors name their own file; an
  // unreadable VM UUID names its file and what to do
  if (err.code === 'STATE_CORRUPT' || err.code === 'ROOT_NOT_PINNED' || err.code === 'VM_UUID_UNREADABLE')
    return { kind: 'damaged', error: err };
  return {
    kind: 'damaged',
    error: new VolactError('STATE_CORRUPT', {
      file,
      detail: `its signed content does not verify (${err.code}: ${err.message})`,
    }),
  };
}

/** The reason shown while a problem keeps the machine from its activation. */
export function problemReason(p: LicenseProblem): string {
  if (p.kind === 'foreign')
    return `license.json was issued to another machine (${p.theirs}), not to this one (${p.ours}); activate this machine with volact slmgr -ato`;
  if (p.kind === 'unverifiable')
    return `the automatic VM activation cannot be verified: ${p.error.message}; run volact slmgr -ato (or the agent) as root once after boot`;
  return `${p.error.message}; activate again with volact slmgr -ato`;
}
