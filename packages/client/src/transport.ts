import {
  VolactError,
  fromErrorBody,
  hostAnswerSchema,
  parseWith,
  type ActivateRequest,
  type HostAnswerBundle,
  type VmActivateRequest,
} from '@volact/protocol';
import { exchangeJson } from '@volact/io';

export type HostTarget = { host: string; port: number };

/** host:port as an operator types it, with brackets around an IPv6 address. */
export function targetLabel(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const MAX_ANSWER = 2 * 1024 * 1024; // a host certificate lists its editions; documents stay under 1 MiB

/** POSTs a request to /v1/activate at `target`; resolves with the status and parsed body, rejects on network failure. */
function postToActivate(
  target: HostTarget,
  body: unknown,
  timeoutMs: number,
): Promise<{ status: number; body: unknown }> {
  return exchangeJson(
    { host: target.host, port: target.port, path: '/v1/activate' },
    { method: 'POST', body, limit: MAX_ANSWER, timeoutMs },
  );
}

/**
 * POSTs an activation request to a host. The caller reads the body: a host's signed refusal
 * comes with status 403.
 */
export function postActivate(
  target: HostTarget,
  body: ActivateRequest,
  timeoutMs = 10_000,
): Promise<{ status: number; body: unknown }> {
  return postToActivate(target, body, timeoutMs);
}

/**
 * The host's answer, checked against its schema as the authority's are: an error body keeps the
 * host's own code; anything else of the wrong shape is HOST_UNREACHABLE with the status.
 */
export function readHostAnswer(reply: { status: number; body: unknown }, label: string): HostAnswerBundle {
  return parseWith(
    hostAnswerSchema,
    reply.body,
    () =>
      fromErrorBody(reply.body) ??
      new VolactError('HOST_UNREACHABLE', { target: label, reason: `unexpected answer (HTTP ${reply.status})` }),
  );
}

/**
 * POSTs a guest's request to its hypervisor agent. The agent sits on the guest bridge, one hop
 * away: 5 seconds is ample, and a machine that is no guest (nothing at the address) learns so fast.
 * Resolves with the status and parsed body; rejects (RequestFailed) when no answer came.
 */
export function postVmActivate(
  target: HostTarget,
  body: VmActivateRequest,
  timeoutMs = 5_000,
): Promise<{ status: number; body: unknown }> {
  return postToActivate(target, body, timeoutMs);
}
