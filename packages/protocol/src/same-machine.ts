import { createHash } from 'node:crypto';

/**
 * What a machine looks like: the OS's own machine identity plus hardware parts. The OS
 * identity tells clones apart; the parts let a MAK activation survive a repair.
 */
export type Fingerprint = {
  /** /etc/machine-id, or an identity the operator set (VDI pools, containers). */
  osId: string;
  cpu: string;
  board: string;
  disks: string[];
  nics: string[];
};

/** Weights: what it costs to change a part. Tolerance 2: one disk or one NIC (or both) may change. */
const weights = { board: 3, cpu: 2, disk: 1, nic: 1 } as const;
export const SAME_MACHINE_TOLERANCE = 2;

export type Sameness = { same: boolean; clone: boolean; score: number; changed: string[] };

function setChanged(a: string[], b: string[]): boolean {
  // a replacement shows as one part gone and one new: count it once
  const sa = new Set(a);
  const sb = new Set(b);
  return [...sa].some((x) => !sb.has(x)) || [...sb].some((x) => !sa.has(x));
}

/**
 * The one "same machine" rule (clone detection and MAK hardware tolerance). A different OS
 * identity is another machine outright; otherwise changed parts add up against the tolerance.
 */
export function sameMachine(before: Fingerprint, now: Fingerprint): Sameness {
  if (before.osId !== now.osId) return { same: false, clone: true, score: Infinity, changed: ['osId'] };
  const changed: string[] = [];
  let score = 0;
  if (before.board !== now.board) {
    changed.push('board');
    score += weights.board;
  }
  if (before.cpu !== now.cpu) {
    changed.push('cpu');
    score += weights.cpu;
  }
  if (setChanged(before.disks, now.disks)) {
    changed.push('disks');
    score += weights.disk;
  }
  if (setChanged(before.nics, now.nics)) {
    changed.push('nics');
    score += weights.nic;
  }
  return { same: score <= SAME_MACHINE_TOLERANCE, clone: false, score, changed };
}

/**
 * What a client tells a host about its identity: a hash of the OS identity and the board, no
 * other hardware detail. Clones that share an OS identity on other boards differ here, so the
 * host can report one machine ID seen with several fingerprints. An operator-set identity
 * (osId "identity:…") stands alone: VDI desktops move between boards.
 */
export function identityHash(fp: Pick<Fingerprint, 'osId' | 'board'>): string {
  const board = fp.osId.startsWith('identity:') ? '' : fp.board;
  return createHash('sha256').update(`volact-identity/${fp.osId}/${board}`).digest('base64url');
}

const partHash = (kind: string, value: string) =>
  createHash('sha256').update(`volact-part/${kind}/${value}`).digest('base64url');

/** The fingerprint with every part hashed: what a MAK activation sends to the authority. */
export function hashedFingerprint(fp: Fingerprint): Fingerprint {
  return {
    osId: partHash('os', fp.osId),
    cpu: partHash('cpu', fp.cpu),
    board: partHash('board', fp.board),
    disks: fp.disks.map((d) => partHash('disk', d)).sort(),
    nics: fp.nics.map((n) => partHash('nic', n)).sort(),
  };
}
