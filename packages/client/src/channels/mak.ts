import { randomBytes } from 'node:crypto';
import {
  VolactError,
  hashedFingerprint,
  makActivationAnswerSchema,
  verifyMakGrant,
  type MakActivationRequest,
} from '@volact/protocol';
import { callAuthority } from '@volact/io';
import { licenseOf } from '../stored-license.js';
import type { ClientStore } from '../store.js';
import type { ActivationOutcome } from './outcome.js';

/** `-ato` with a MAK: once with the authority, bound to this machine's hashed hardware. */
export async function activateMak(store: ClientStore): Promise<ActivationOutcome> {
  const s = store.state;
  if (!s.key?.text) throw new VolactError('KEY_NOT_INSTALLED');
  const authority = store.ctx.env.VOLACT_AUTHORITY_URL ?? s.authorityUrl;
  if (!authority) throw new VolactError('NO_AUTHORITY');
  const roots = store.roots();
  const before = licenseOf(store);
  const nonce = randomBytes(18).toString('base64url');
  const now = store.now();
  const req: MakActivationRequest = {
    v: 1,
    makKey: s.key.text,
    machineId: s.machine.id,
    parts: hashedFingerprint(store.fingerprint()),
    nonce,
  };
  store.event({
    event: 12288,
    at: now,
    machineId: s.machine.id,
    licenseState: before.state,
    host: authority,
    edition: s.key.edition,
    channel: 'mak',
  });
  s.lastAttempt = { at: now, ok: false };
  store.save();
  const answer = await callAuthority(
    authority,
    '/v1/mak-activations',
    req,
    makActivationAnswerSchema,
    store.ctx.postAuthority,
  );
  const grant = verifyMakGrant(answer.grant, answer.issuer, roots, { machineId: s.machine.id, nonce, now });
  if (grant.edition !== s.key.edition)
    throw new VolactError('DOCUMENT_INVALID', {
      type: 'volact.mak-grant',
      detail: `for edition ${grant.edition}, not ${s.key.edition}`,
    });
  store.saveLicense({ v: 1, mak: { grant: answer.grant, issuer: answer.issuer }, nonce, authority });
  s.lastAttempt = { at: now, ok: true };
  s.outOfToleranceSince = null;
  s.localHighWater = Math.max(now, grant.issuedAt);
  store.save();
  store.event({
    event: 12289,
    at: now,
    machineId: s.machine.id,
    host: authority,
    outcome: 'makGrant',
    activationsUsed: grant.activationsUsed,
    activationsLimit: grant.activationsLimit,
  });
  return { kind: 'makActivated', makGrant: grant, host: authority };
}
