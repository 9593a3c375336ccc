import {
  VolactError,
  decodeKey,
  hashedFingerprint,
  makeInstallationId,
  parseInstallationId,
  verifyOfflineConfirmation,
} from '@volact/protocol';
import type { ClientStore } from '../store.js';

/** `-dti` with a MAK: the installation ID of this machine and key (no secret in clear). */
export function installationId(store: ClientStore): { installationId: string; type: 'mak' } {
  const s = store.state;
  if (!s.key?.text) throw new VolactError('KEY_NOT_INSTALLED');
  if (s.key.keyClass !== 'mak') throw new VolactError('KEY_WRONG_CLASS', { actual: s.key.keyClass, expected: 'MAK' });
  const iid = makeInstallationId(decodeKey(s.key.text), {
    type: 'mak',
    machineId: s.machine.id,
    parts: hashedFingerprint(store.fingerprint()),
  });
  return { installationId: iid.text, type: 'mak' };
}

/** `-atp CID`: applies a confirmation ID typed in, verified offline against the pinned root. */
export function applyConfirmation(store: ClientStore, cidText: string): { edition: number; issuedAt: number } {
  const s = store.state;
  const iid = parseInstallationId(installationId(store).installationId);
  const bundle = store.offlineBundle();
  const { cid } = verifyOfflineConfirmation(cidText, iid, [bundle.offlineIssuer], store.roots());
  store.saveLicense({
    v: 1,
    offline: {
      installation: iid.publicForm.toString('base64url'),
      confirmationId: cid.text,
      issuer: bundle.offlineIssuer,
    },
  });
  s.outOfToleranceSince = null;
  s.lastAttempt = { at: store.now(), ok: true };
  store.save();
  store.event({
    event: 12289,
    at: store.now(),
    machineId: s.machine.id,
    host: 'offline',
    outcome: 'makGrant',
    channel: 'offline',
  });
  return { edition: iid.key.ref, issuedAt: cid.issuedAt };
}
