import { createHash, randomUUID } from 'node:crypto';
import {
  DOC_VERSION,
  VolactError,
  docTypes,
  hostCertKind,
  hypervisorCertKind,
  publicKeyFromRaw,
  signDocument,
  type DirectoryActivationAnswer,
  type DirectoryActivationRequest,
  type DirectoryObject,
  type HostActivationAnswer,
  type HostActivationRequest,
  type CertKind,
  type HostCert,
} from '@volact/protocol';
import type { AuthorityStore } from '../store.js';
import { auditEntry, findHostKey, issuer, type Actor, type VerbContext } from './verb-context.js';

/** Online host activation: 6 distinct hosts and 10 activations per host key by default. */
export function activateHost(
  ctx: VerbContext,
  req: HostActivationRequest,
  actor?: Actor,
): Promise<HostActivationAnswer> {
  return activateCertified(ctx, req, hostCertKind, actor);
}

/**
 * Hypervisor agent activation with a datacenter key: the same slots, limits and retries as a
 * host, a certificate from the `hypervisor` issuer that lists only the group's guest editions.
 */
export function activateHypervisor(
  ctx: VerbContext,
  req: HostActivationRequest,
  actor?: Actor,
): Promise<HostActivationAnswer> {
  return activateCertified(ctx, req, hypervisorCertKind, actor);
}

/** Certifies a host's (or agent's) own public key for the editions its key's group covers, in one of the key's slots. */
async function activateCertified(
  ctx: VerbContext,
  req: HostActivationRequest,
  kind: CertKind,
  actor?: Actor,
): Promise<HostActivationAnswer> {
  const row = await findHostKey(ctx, req.hostKey, kind.keyClass);
  const { catalog, jws: catalogJws, issuer: catalogIssuer } = await ctx.catalog();
  const group = catalog.groups.find((g) => g.code === row.groupCode);
  if (!group) throw new VolactError('GROUP_UNKNOWN', { group: row.groupCode });
  const editions = catalog.editions
    .filter((e) => group.editions.includes(e.number) && kind.covers(e))
    .map((e) => ({ number: e.number, code: e.code, name: e.name, kind: e.kind }));
  // a catalog imported since the key was issued may have no guest edition left in its group
  if (editions.length === 0) throw new VolactError('GROUP_NO_GUEST_EDITIONS', { group: group.code });
  publicKeyFromRaw(req.hostPublicKey);
  const hostId = kind.idFor(req.hostPublicKey);
  const signer = issuer(ctx, kind.purpose);
  const now = ctx.clock.now();
  const outcome = await ctx.store.activateHost(
    {
      hostKeyId: row.id,
      hostPublicKey: req.hostPublicKey,
      hostId,
      hostName: req.hostName,
      requestId: req.requestId,
      now,
    },
    (activation, usage) => {
      const cert: HostCert = {
        hostId,
        hostKeyId: row.id,
        hostPublicKey: req.hostPublicKey,
        hostName: req.hostName,
        group: group.code,
        editions,
        issuedAt: now,
        notAfter: null,
        activation,
      };
      const answer: HostActivationAnswer = {
        certificate: signDocument(signer.pair, kind.typ, DOC_VERSION, cert),
        issuer: signer.certificate,
        catalog: catalogJws,
        catalogIssuer,
        hostsUsed: usage.hostsUsed,
        hostsLimit: usage.hostsLimit,
        activationsUsed: usage.activationsUsed,
        activationsLimit: usage.activationsLimit,
      };
      return JSON.stringify(answer);
    },
    actor ? auditEntry(ctx, actor, `${kind.what}.activate`, `${row.id}/${hostId}`, 'offline confirmation') : undefined,
  );
  return JSON.parse(slotAnswer(outcome)) as HostActivationAnswer;
}

/**
 * Directory activation: the host key activates one directory like a host (the directory takes
 * one host slot, each object one activation) and the authority signs an activation object
 * bound to the directory's server-generated ID. Retries with the same requestId use nothing.
 */
export async function activateDirectory(
  ctx: VerbContext,
  req: DirectoryActivationRequest,
  actor?: Actor,
): Promise<DirectoryActivationAnswer> {
  const row = await findHostKey(ctx, req.hostKey);
  const { catalog } = await ctx.catalog();
  const group = catalog.groups.find((g) => g.code === row.groupCode);
  if (!group) throw new VolactError('GROUP_UNKNOWN', { group: row.groupCode });
  const signer = issuer(ctx, 'directory');
  const now = ctx.clock.now();
  const directoryId = req.directoryId.toLowerCase();
  const hostId = 'D' + createHash('sha256').update(`volact-directory/${directoryId}`).digest('base64url').slice(0, 12);
  const outcome = await ctx.store.activateHost(
    {
      hostKeyId: row.id,
      hostPublicKey: `directory:${directoryId}`,
      hostId,
      hostName: `directory ${req.suffix}`.slice(0, 128),
      requestId: req.requestId,
      now,
    },
    (activation, usage) => {
      const doc: DirectoryObject = {
        objectId: `AO-${randomUUID().slice(0, 8)}`,
        name: req.name,
        directoryId,
        directoryKind: req.directoryKind,
        suffix: req.suffix,
        hostKeyId: row.id,
        group: group.code,
        editions: catalog.editions
          .filter((e) => group.editions.includes(e.number))
          .map(({ number, code, name, kind }) => ({ number, code, name, kind })),
        issuedAt: now,
        activation,
      };
      const answer: DirectoryActivationAnswer = {
        object: signDocument(signer.pair, docTypes.directoryObject, DOC_VERSION, doc),
        issuer: signer.certificate,
        ...usage,
      };
      return JSON.stringify(answer);
    },
    actor
      ? auditEntry(ctx, actor, 'directory.activate', `${row.id}/${hostId}`, `${req.suffix} (${directoryId})`)
      : undefined,
  );
  return JSON.parse(slotAnswer(outcome)) as DirectoryActivationAnswer;
}

/** Frees the slot of a decommissioned host (or hypervisor agent) on a host (or datacenter) key. */
export async function releaseHost(ctx: VerbContext, hostKeyId: string, hostId: string, actor: Actor): Promise<void> {
  if (
    !(await ctx.store.releaseHost(
      hostKeyId,
      hostId,
      auditEntry(ctx, actor, 'host.release', `${hostKeyId}/${hostId}`, 'slot freed'),
    ))
  )
    throw new VolactError('REQUEST_UNKNOWN', { id: `${hostKeyId}/${hostId}` });
}

/** The answer of a host-slot activation (host or directory), or the error its outcome means. */
function slotAnswer(outcome: Awaited<ReturnType<AuthorityStore['activateHost']>>): string {
  switch (outcome.kind) {
    case 'activated':
    case 'reactivated':
    case 'retried':
      return outcome.answer;
    case 'hostLimit':
      throw new VolactError('KEY_LIMIT_HOSTS', { used: outcome.used, limit: outcome.limit });
    case 'activationLimit':
      throw new VolactError('KEY_LIMIT_ACTIVATIONS', { used: outcome.used, limit: outcome.limit });
    case 'requestConflict':
      throw new VolactError('BAD_REQUEST', {
        field: 'requestId',
        problem: 'was already used for another host, directory or key',
      });
  }
}
