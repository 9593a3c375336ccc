import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  VolactError,
  defaults,
  fromErrorBody,
  identityHash,
  parseWith,
  verifyHypervisorCert,
  verifyVmGrant,
  vmAnswerSchema,
  type ErrorCode,
  type VmActivateRequest,
  type VmAnswerBundle,
  type VmGrant,
  type VmGrantExpectations,
  type Root,
} from '@volact/protocol';
import { RequestFailed } from '@volact/io';
import type { ClientState } from '../state.js';
import type { ClientStore } from '../store.js';
import { postVmActivate, type HostTarget } from '../transport.js';
import { isPermissionDenied, readAndRecordVmUuid, vmAgentOf } from '../vm-identity.js';
import type { ActivationOutcome } from './outcome.js';

/** The state of a guest with a VM key installed (its text is public and always kept). */
export type VmReadyState = ClientState & { key: { text: string; edition: number; keyClass: 'vm' } };

/** The outcome a 12309 event names, by the code a failure ends in (the Windows AVMA event's results). */
const outcomes: Partial<Record<ErrorCode, string>> = {
  NOT_A_VM: 'notVm',
  VM_INVALID_HOST: 'invalidHost',
  VM_INVALID_DATA: 'invalidData',
  CLOCK_SKEW: 'invalidData',
  VM_DENIED: 'denied',
  VM_UUID_UNREADABLE: 'unreadable',
};

/** Codes of the agent that pass to the guest as they are: they say what to do better than a VM code would. */
const passedOn = new Set<string>(['VM_DENIED', 'CLOCK_SKEW', 'RATE_LIMITED', 'TOO_MANY_CONNECTIONS']);

/**
 * `-ato` with a VM key: one request to the hypervisor agent on the guest bridge, answered with a
 * 7-day grant that this guest verifies (agent certificate to the pinned root, agent signature,
 * machine, VM UUID, nonce, edition, time). Every result is a 12309 event. A failure never
 * touches the stored grant: a guest keeps it until it expires, then has 30 days of grace.
 * The VM UUID is read first, inside the same handling: no SMBIOS product UUID at all (ENOENT) is
 * a machine no agent could know, NOT_A_VM (notVm); one that cannot be read (permission, not a
 * UUID) is VM_UUID_UNREADABLE (unreadable). A UUID read is recorded for unprivileged readers.
 */
export async function activateFromAgent(store: ClientStore, s: VmReadyState): Promise<ActivationOutcome> {
  const roots = store.roots();
  const { target, label } = vmAgentOf(s, store.ctx.env);
  const held = store.stored().vm;
  const now = store.now();
  let vmUuid: string | null = null;
  let req: VmActivateRequest;
  let answer: VmAnswerBundle;
  let grant: VmGrant;
  try {
    vmUuid = readUuid(store, label);
    req = {
      v: 1,
      vmUuid,
      machineId: s.machine.id,
      fingerprintHash: identityHash(s.machine.madeFor),
      vmKey: s.key.text,
      nonce: randomBytes(18).toString('base64url'),
      clientTime: now,
    };
    const name = hostname().slice(0, 128);
    if (name) req.machineName = name;
    answer = await ask(target, label, req);
    let chain;
    try {
      chain = verifyHypervisorCert(answer.certificate, answer.issuer, roots, now);
    } catch (err) {
      throw new VolactError('VM_INVALID_HOST', { address: label, detail: `its certificate: ${describe(err)}` });
    }
    grant = checkGrant(answer, chain, req, s.key.edition, now, roots);
  } catch (err) {
    s.lastAttempt = { at: now, ok: false };
    s.intervals = { ...s.intervals, retryMinutes: defaults.vmRetryMinutes };
    s.localHighWater = Math.max(s.localHighWater, now);
    store.save();
    const code = err instanceof VolactError ? err.code : 'INTERNAL';
    store.event({
      event: 12309,
      at: now,
      machineId: s.machine.id,
      vmUuid,
      agent: label,
      outcome: outcomes[code] ?? 'refused',
      code,
      detail: err instanceof Error ? err.message : String(err),
      kept: held !== null,
    });
    throw err;
  }
  store.saveLicense({ v: 1, vm: answer, nonce: req.nonce, agent: label });
  // the agent vouched for our clock (the 4-hour skew check passed): as after a host's grant
  s.highWater = Math.max(s.highWater, grant.issuedAt);
  s.localHighWater = Math.max(now, grant.issuedAt);
  s.intervals = { renewalMinutes: grant.renewalMinutes, retryMinutes: defaults.vmRetryMinutes };
  s.lastAttempt = { at: now, ok: true };
  s.lastAnswer = { kind: 'vmGrant', count: 0, required: 0, at: grant.issuedAt, host: label };
  store.save();
  store.event({
    event: 12309,
    at: now,
    machineId: s.machine.id,
    vmUuid,
    agent: label,
    outcome: 'success',
    code: null,
    hypervisorId: grant.hypervisorId,
    hypervisorName: grant.hypervisorName,
    edition: grant.edition,
    validUntil: new Date(grant.validUntil).toISOString(),
  });
  return { kind: held ? 'vmRenewed' : 'vmActivated', vmGrant: grant, host: label };
}

/** This VM's UUID (recorded for unprivileged readers); no SMBIOS product UUID at all is NOT_A_VM. */
function readUuid(store: ClientStore, label: string): string {
  try {
    return readAndRecordVmUuid(store.dir, store.ctx.env, store.ctx.vmIdentity);
  } catch (err) {
    if (err instanceof VolactError && err.code === 'VM_UUID_UNREADABLE' && !isPermissionDenied(err)) {
      const { file, reason } = err.params;
      if (/no such file/.test(String(reason)))
        throw new VolactError('NOT_A_VM', { address: label, reason: `no SMBIOS product UUID (${file})` });
    }
    throw err;
  }
}

/** The request and the agent's answer, or the VM code that stands for what came back instead. */
async function ask(target: HostTarget, label: string, req: VmActivateRequest): Promise<VmAnswerBundle> {
  let reply: { status: number; body: unknown };
  try {
    reply = await postVmActivate(target, req);
  } catch (err) {
    if (err instanceof RequestFailed && err.failure.kind === 'tooLarge')
      throw new VolactError('VM_INVALID_DATA', { detail: `the answer of ${label} is too large` });
    throw new VolactError('NOT_A_VM', { address: label, reason: describe(err) });
  }
  if (reply.status >= 200 && reply.status <= 299)
    return parseWith(
      vmAnswerSchema,
      reply.body,
      (p) => new VolactError('VM_INVALID_DATA', { detail: `the answer of ${label}: ${p.field} ${p.problem}` }),
    );
  const refused = fromErrorBody(reply.body);
  // something answered that is not a volact agent (another web server on the address)
  if (!refused)
    throw new VolactError('NOT_A_VM', {
      address: label,
      reason: `HTTP ${reply.status}, not a volact hypervisor agent`,
    });
  if (passedOn.has(refused.code)) throw refused;
  if (refused.code === 'HYPERVISOR_NOT_ACTIVATED')
    throw new VolactError('VM_INVALID_HOST', { address: label, detail: 'the agent is not activated' });
  if (reply.status >= 500)
    throw new VolactError('VM_INVALID_HOST', { address: label, detail: `${refused.code}: ${refused.message}` });
  throw new VolactError('VM_INVALID_DATA', {
    detail: `the agent refused the request (${refused.code}: ${refused.message})`,
  });
}

/** The grant, verified for this request and the installed edition; CLOCK_SKEW passes as it is. */
function checkGrant(
  answer: VmAnswerBundle,
  chain: ReturnType<typeof verifyHypervisorCert>,
  req: VmActivateRequest,
  edition: number,
  now: number,
  roots: readonly Root[],
): VmGrant {
  let grant: VmGrant;
  try {
    grant = verifyVmGrant(answer.grant, chain, {
      machineId: req.machineId,
      vmUuid: req.vmUuid,
      fingerprintHash: req.fingerprintHash,
      nonce: req.nonce,
      now,
      catalog: vmCatalog(answer, roots),
    });
  } catch (err) {
    if (err instanceof VolactError && err.code === 'CLOCK_SKEW') throw err;
    throw new VolactError('VM_INVALID_DATA', { detail: `the grant: ${describe(err)}` });
  }
  if (grant.edition !== edition)
    throw new VolactError('VM_INVALID_DATA', {
      detail: `the grant is for edition ${grant.edition}, not the installed edition ${edition}`,
    });
  return grant;
}

function describe(err: unknown): string {
  if (err instanceof VolactError) return `${err.code}: ${err.message}`;
  return err instanceof Error ? err.message : String(err);
}

/** The catalog an agent sent with a grant for a guest edition its certificate does not list (editionCovered). */
export function vmCatalog(answer: VmAnswerBundle, roots: readonly Root[]): VmGrantExpectations['catalog'] {
  return answer.catalog !== undefined && answer.catalogIssuer !== undefined
    ? { signed: { catalog: answer.catalog, issuer: answer.catalogIssuer }, roots }
    : undefined;
}
