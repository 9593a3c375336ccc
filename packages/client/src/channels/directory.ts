import {
  VolactError,
  defaults,
  editionCovered,
  identityHash,
  verifyDirectoryObject,
  type Root,
  type SignedCatalog,
  type VerifiedDirectoryObject,
} from '@volact/protocol';
import {
  connectDirectory,
  listObjects,
  readDirectoryId,
  type DirectorySession,
  type DirectoryTarget,
} from '@volact/directory';
import { directoryTarget } from '../directory-settings.js';
import { licenseOf, ownCatalog } from '../stored-license.js';
import type { ClientStore } from '../store.js';
import type { ActivationOutcome, ReadyState } from './outcome.js';

/** What a try of the directory gave: an activation, or why not (and whether a host may be tried). */
export type DirectoryTry =
  { ok: true; outcome: ActivationOutcome } | { ok: false; error: VolactError; fallBack: boolean };

/** What one try knows while it runs: what the steps below record against. */
type Try = {
  store: ClientStore;
  s: ReadyState;
  now: number;
  label: string;
  held: ReturnType<ClientStore['stored']>['directory'];
  heldValid: boolean;
};

/**
 * One read of the directory: bind with the machine account (any replica), read the objects,
 * keep the first that verifies to the pinned root, belongs to this directory (its server-made
 * ID) and covers the installed edition; 180 days from now. A refused account, or no valid
 * object, ends directory activation now (the host may take over); a directory that cannot be
 * reached keeps a directory activation that is still valid.
 */
export async function activateFromDirectory(
  store: ClientStore,
  s: ReadyState,
  startup: boolean,
): Promise<DirectoryTry> {
  const roots = store.roots();
  const now = store.now();
  const held = store.stored().directory;
  const licenseState = licenseOf(store).state;
  const t: Try = {
    store,
    s,
    now,
    label: s.directory!.urls.join(','),
    held,
    heldValid: held !== null && licenseState === 'licensed',
  };
  store.event({
    event: 12288,
    at: now,
    machineId: s.machine.id,
    licenseState,
    host: t.label,
    edition: s.key.edition,
    channel: 'directory',
  });
  let target: DirectoryTarget;
  let session: DirectorySession;
  try {
    target = directoryTarget(store.dir, s);
    session = await connectDirectory(target);
  } catch (err) {
    if (!(err instanceof VolactError)) throw err;
    // a refused account ends directory activation at the next start (the agent's first read,
    // or -ato); a refusal between starts (a lockout anyone can provoke) is only retried
    if (err.code === 'DIRECTORY_BIND_REFUSED' && (startup || !t.heldValid)) return lose(t, err);
    return failed(t, err);
  }
  try {
    const found = await readObject(roots, s, session, target, ownCatalog(store));
    // "no object" ends the activation only when the answer could not have been forged on the way
    if ('error' in found) return session.trusted ? lose(t, found.error) : failed(t, found.error);
    return activated(t, found, session, target);
  } catch (err) {
    if (!(err instanceof VolactError)) throw err;
    return failed(t, err);
  } finally {
    await session.close();
  }
}

/** An object verified: the license is stored, valid for 180 days from now. */
function activated(
  { store, s, now, held }: Try,
  { object: o, directoryId }: { object: { value: string; dn: string; name: string }; directoryId: string },
  session: DirectorySession,
  target: DirectoryTarget,
): DirectoryTry {
  const activatedAt = Math.max(now, s.localHighWater);
  const validUntil = activatedAt + defaults.validityMs;
  store.saveLicense({
    v: 1,
    directory: {
      value: o.value,
      dn: o.dn,
      name: o.name,
      directoryId,
      url: session.url,
      activatedAt,
      validUntil,
      machineId: s.machine.id,
      fingerprintHash: identityHash(s.machine.madeFor),
      base: target.base,
      bindDn: target.bindDn,
    },
  });
  s.intervals = { renewalMinutes: defaults.directoryRenewalMinutes, retryMinutes: s.intervals.retryMinutes };
  s.lastAttempt = { at: now, ok: true };
  s.localHighWater = activatedAt;
  s.lastAnswer = { kind: 'directory', count: 0, required: 0, at: activatedAt, host: session.url };
  s.directoryReadAt = activatedAt;
  s.directoryNote = null;
  store.save();
  store.event({
    event: 12289,
    at: now,
    machineId: s.machine.id,
    host: session.url,
    outcome: 'directory',
    object: o.name,
    dn: o.dn,
    channel: 'directory',
  });
  const kind = held ? 'directoryRenewed' : 'directoryActivated';
  return { ok: true, outcome: { kind, name: o.name, dn: o.dn, validUntil, host: session.url } };
}

/** The directory says no (account refused, no object): the directory activation ends now. */
function lose({ store, s, now, label, held }: Try, error: VolactError): DirectoryTry {
  if (held) store.saveLicense(null);
  s.directoryReadAt = null;
  s.directoryNote = `${error.code}: ${error.message}`;
  s.lastAttempt = { at: now, ok: false };
  store.save();
  store.event({
    event: 12289,
    at: now,
    machineId: s.machine.id,
    host: label,
    outcome: 'directoryRefused',
    code: error.code,
    channel: 'directory',
    detail: error.message,
    dropped: Boolean(held),
  });
  return { ok: false, error, fallBack: true };
}

/** The directory could not answer (away from the office, a TLS or local problem): a valid activation is kept. */
function failed({ store, s, now, label, held, heldValid }: Try, err: VolactError): DirectoryTry {
  s.lastAttempt = { at: now, ok: false };
  s.directoryNote = `${err.code}: ${err.message}`;
  store.save();
  store.event({
    event: 12289,
    at: now,
    machineId: s.machine.id,
    host: label,
    outcome: 'directoryUnreachable',
    code: err.code,
    channel: 'directory',
    detail: err.message,
  });
  if (held && heldValid) {
    const until = new Date(held.license.directory.validUntil).toISOString();
    const cause =
      err.code === 'DIRECTORY_UNREACHABLE' ? String(err.params.detail ?? err.message) : `${err.code}: ${err.message}`;
    return {
      ok: false,
      fallBack: false,
      error: new VolactError('DIRECTORY_ACTIVATION_KEPT', { detail: cause, name: held.license.directory.name, until }),
    };
  }
  return { ok: false, error: err, fallBack: true };
}

/** The first object that verifies to the pinned root, belongs to this directory and covers the installed edition; or why none does. */
async function readObject(
  roots: Root[],
  s: ReadyState,
  session: DirectorySession,
  target: DirectoryTarget,
  catalog: SignedCatalog | undefined,
): Promise<{ object: { value: string; dn: string; name: string }; directoryId: string } | { error: VolactError }> {
  const identity = await readDirectoryId(session, target.base);
  const objects = await listObjects(session, target.base);
  const refused: string[] = [];
  for (const o of objects) {
    let verified: VerifiedDirectoryObject;
    try {
      verified = verifyDirectoryObject(o.value, roots, { directoryId: identity.directoryId, name: o.name });
    } catch (err) {
      refused.push(`${o.name}: ${err instanceof VolactError ? `${err.code} ${err.message}` : String(err)}`);
      continue;
    }
    if (!editionCovered(s.key.edition, verified, catalog, roots)) {
      refused.push(`${o.name}: covers ${verified.group}, not edition ${s.key.edition}`);
      continue;
    }
    return { object: o, directoryId: identity.directoryId };
  }
  return {
    error: new VolactError('DIRECTORY_NO_OBJECT', {
      edition: s.key.edition,
      detail: objects.length ? refused.join('; ') : `no object is readable under the container at ${session.url}`,
    }),
  };
}
