import { createHash } from 'node:crypto';
import {
  KEY_VERSION,
  VolactError,
  hostIdFor,
  hypervisorIdFor,
  installationIdMacValid,
  makeConfirmation,
  mintKey,
  parseInstallationId,
  publicKeyToPem,
  rawPublicKey,
  type OfflineBundle,
} from '@volact/protocol';
import { activateDirectory, activateHost, activateHypervisor } from './host-activation.js';
import { auditEntry, findHostKey, issuer, keyHash, type Actor, type VerbContext } from './verb-context.js';

export type Confirmed = {
  type: 'host' | 'mak' | 'directory' | 'hypervisor';
  installationId: string;
  confirmationId: string;
  keyId: string;
  outcome: string;
  used: number;
  limit: number;
};

/**
 * Offline ("phone") activation: reads an installation ID, re-derives the key from its ID with
 * the mint secret, checks the MAC (only the key holder can make it), activates through the
 * same idempotent paths as online activation and signs a confirmation ID. The same IID asked
 * twice is a retry: it uses one activation.
 */
export async function confirmOffline(
  ctx: VerbContext,
  text: string,
  actor?: Actor,
  onKeyProven?: (keyId: string) => Promise<void>,
): Promise<Confirmed> {
  const iid = parseInstallationId(text);
  if (iid.key.version !== KEY_VERSION)
    throw new VolactError('INSTALLATION_ID_INVALID', { detail: `key version ${iid.key.version}` });
  const canonical = mintKey(ctx.keys.mintSecret, iid.key.keyClass, iid.key.ref, iid.key.serial);
  if (!installationIdMacValid(iid, canonical))
    throw new VolactError('INSTALLATION_ID_INVALID', { detail: 'its check does not match the key it names' });
  // per-key limits count only proven holders: nobody can use up a victim's limit with garbage
  await onKeyProven?.(canonical);
  const signer = issuer(ctx, 'offline');
  // a prefix no online request ID can have (those are base64url): an IID cannot be squatted
  const iidHash = createHash('sha256').update(iid.publicForm).digest('base64url');
  let result: { keyId: string; outcome: string; used: number; limit: number };
  if (iid.type === 'directory') {
    const row = await findHostKey(ctx, canonical);
    const answer = await activateDirectory(
      ctx,
      {
        v: 1,
        hostKey: canonical,
        directoryId: iid.directoryId!,
        directoryKind: 'openldap',
        suffix: `offline ${iid.directoryId}`,
        name: 'offline',
        requestId: `iid:${iidHash}`,
      },
      actor,
    );
    result = {
      keyId: row.id,
      outcome: 'directory activated',
      used: answer.activationsUsed,
      limit: answer.activationsLimit,
    };
  } else if (iid.type === 'host' || iid.type === 'hypervisor') {
    // a hypervisor agent (datacenter key) is activated like a host, by its kind
    const hypervisor = iid.type === 'hypervisor';
    const hostPublicKey = iid.hostPublicKey!.toString('base64url');
    const row = await findHostKey(ctx, canonical, hypervisor ? 'datacenter' : 'host');
    const req = {
      v: 1 as const,
      hostKey: canonical,
      hostPublicKey,
      hostName: `offline ${(hypervisor ? hypervisorIdFor : hostIdFor)(hostPublicKey)}`,
      requestId: `iid:${iidHash}`,
    };
    const answer = await (hypervisor ? activateHypervisor : activateHost)(ctx, req, actor);
    result = {
      keyId: row.id,
      outcome: `${iid.type} activated`,
      used: answer.activationsUsed,
      limit: answer.activationsLimit,
    };
  } else {
    const mak = await ctx.store.findMakByHash(keyHash(canonical));
    if (!mak) throw new VolactError('KEY_UNKNOWN');
    const machineId = `iid-${iid.machineRef!.toString('base64url')}`;
    const outcome = await ctx.store.activateMak(
      { makId: mak.id, machineId, parts: iid.parts!, now: ctx.clock.now(), iidHash },
      actor ? auditEntry(ctx, actor, 'mak.activate', `${mak.id}/${machineId}`, 'offline confirmation') : undefined,
    );
    if (outcome.kind === 'limit') throw new VolactError('MAK_LIMIT', { used: outcome.used, limit: outcome.limit });
    result = { keyId: mak.id, outcome: outcome.kind, used: outcome.used, limit: outcome.limit };
  }
  const cid = makeConfirmation(
    iid,
    { privateKey: signer.pair.privateKey, rawPublicKey: rawPublicKey(signer.pair.publicKey) },
    ctx.clock.now(),
  );
  return { type: iid.type, installationId: iid.text, confirmationId: cid.text, ...result };
}

/** What air-gapped hosts and machines install to check confirmations: root, offline issuer, catalog. */
export async function offlineBundle(ctx: VerbContext): Promise<OfflineBundle> {
  const { jws, issuer: catalogIssuer } = await ctx.catalog();
  return {
    v: 1,
    kind: 'volact.offline-bundle',
    root: publicKeyToPem(ctx.keys.root.key),
    offlineIssuer: issuer(ctx, 'offline').certificate,
    catalog: jws,
    catalogIssuer,
  };
}
