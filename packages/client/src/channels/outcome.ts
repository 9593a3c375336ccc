import type { ClientState } from '../state.js';
import type { Grant, MakGrant, VmGrant } from '@volact/protocol';

export type ActivationOutcome = (
  | { kind: 'activated' | 'renewed'; grant: Grant; host: string }
  | { kind: 'directoryActivated' | 'directoryRenewed'; name: string; dn: string; validUntil: number; host: string }
  | { kind: 'makActivated'; makGrant: MakGrant; host: string }
  | { kind: 'vmActivated' | 'vmRenewed'; vmGrant: VmGrant; host: string }
  | { kind: 'countInsufficient'; count: number; required: number; retryMinutes: number; host: string }
  | {
      kind: 'refused';
      code: 'EDITION_NOT_COVERED' | 'CLOCK_SKEW';
      count: number;
      host: string;
      detail: Record<string, string | number>;
    }
) & {
  /** Why directory activation was not used, when a host was used after it. */
  directoryNote?: string;
};

/** The state of a machine with a setup key whose text is kept: what the host and directory channels need. */
export type ReadyState = ClientState & { key: { text: string; edition: number } };
