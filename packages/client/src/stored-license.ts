import { join } from 'node:path';
import {
  VolactError,
  decodeKey,
  defaults,
  hashedFingerprint,
  identityHash,
  machineRef,
  makIdOf,
  parseJws,
  parsePublicForm,
  sameHardware,
  editionCovered,
  verifyCatalog,
  verifyDirectoryObject,
  verifyHostAnswer,
  verifyHypervisorCert,
  verifyVmGrant,
  verifyMakGrant,
  verifyOfflineConfirmation,
  type Grant,
  type HostCert,
  type MakGrant,
  type SignedCatalog,
  type VerifiedDirectoryObject,
  type VmGrant,
} from '@volact/protocol';
import { vmCatalog } from './channels/vm.js';
import { licenseProblem, problemReason, type LicenseProblem } from './license-problem.js';
import { licenseState, type LicenseView } from './license-state.js';
import {
  loadCatalog,
  loadLicense,
  type StoredDirectoryLicense,
  type StoredLicense,
  type StoredMakLicense,
  type StoredOfflineLicense,
  type StoredVmLicense,
} from './state.js';
import type { ClientStore } from './store.js';
import { vmUuidForReading } from './vm-identity.js';

/** license.json as read: at most one verified activation, or the problem with the file. */
export type StoredRead = {
  grant: { grant: Grant; license: StoredLicense; cert: HostCert } | null;
  mak: { grant: MakGrant; license: StoredMakLicense | StoredOfflineLicense } | null;
  directory: { object: VerifiedDirectoryObject; license: StoredDirectoryLicense } | null;
  vm: { grant: VmGrant; license: StoredVmLicense; cert: HostCert } | null;
  problem: LicenseProblem | null;
};

/**
 * license.json, read and re-verified for this machine: at most one of a host grant, a MAK
 * activation (online or offline), a directory activation or an automatic VM activation; or
 * the problem with it. A file
 * that cannot be read or whose signatures do not verify is damaged; one issued to another
 * machine (copied in) is foreign. Either counts as no activation, and -ato replaces it.
 */
export function readStored(store: ClientStore): StoredRead {
  const none: StoredRead = { grant: null, mak: null, directory: null, vm: null, problem: null };
  const file = join(store.dir, 'license.json');
  try {
    const license = loadLicense(store.dir);
    if (!license) return none;
    if ('bundle' in license) return { ...none, grant: verifyGrant(store, license) };
    if ('mak' in license) return { ...none, mak: verifyMak(store, license) };
    if ('offline' in license) return { ...none, mak: storedOffline(store, license) };
    if ('directory' in license) return { ...none, directory: verifyDirectory(store, license) };
    if ('vm' in license) return { ...none, vm: verifyVm(store, license) };
    return {
      ...none,
      problem: {
        kind: 'damaged',
        error: new VolactError('STATE_CORRUPT', { file, detail: 'it holds no license volact writes' }),
      },
    };
  } catch (err) {
    return { ...none, problem: licenseProblem(err, file) };
  }
}

/** A stored host grant for this machine and the installed edition (another edition counts as none). */
function verifyGrant(store: ClientStore, license: StoredLicense): StoredRead['grant'] {
  const s = store.state;
  const issuedAt = (parseJws(license.bundle.answer).payload as { issuedAt?: number }).issuedAt ?? 0;
  const v = verifyHostAnswer(license.bundle, store.roots(), {
    machineId: s.machine.id,
    nonce: license.nonce,
    fingerprintHash: identityHash(s.machine.madeFor),
    now: issuedAt,
  });
  return v.kind === 'grant' && s.key?.edition === v.grant.edition
    ? { grant: v.grant, license, cert: v.chain.cert }
    : null;
}

/**
 * A stored automatic VM activation: the agent's certificate to the pinned root, its signature,
 * this machine and fingerprint, and the VM UUID read now (or, for an unprivileged reader, as root
 * recorded it in this boot: vmUuidForReading): a license copied into another VM is foreign there. It counts for the installed VM key's edition only.
 */
function verifyVm(store: ClientStore, license: StoredVmLicense): StoredRead['vm'] {
  const s = store.state;
  const issuedAt = (parseJws(license.vm.grant).payload as { issuedAt?: number }).issuedAt ?? 0;
  const chain = verifyHypervisorCert(license.vm.certificate, license.vm.issuer, store.roots(), issuedAt);
  const grant = verifyVmGrant(license.vm.grant, chain, {
    machineId: s.machine.id,
    vmUuid: vmUuidForReading(store.dir, store.ctx.env, store.ctx.vmIdentity),
    fingerprintHash: identityHash(s.machine.madeFor),
    nonce: license.nonce,
    now: issuedAt,
    catalog: vmCatalog(license.vm, store.roots()),
  });
  return s.key?.keyClass === 'vm' && s.key.edition === grant.edition ? { grant, license, cert: chain.cert } : null;
}

/** A stored online MAK activation for this machine and the installed MAK's edition. */
function verifyMak(
  store: ClientStore,
  license: StoredMakLicense,
): { grant: MakGrant; license: StoredMakLicense } | null {
  const s = store.state;
  const issuedAt = (parseJws(license.mak.grant).payload as { issuedAt?: number }).issuedAt ?? 0;
  const grant = verifyMakGrant(license.mak.grant, license.mak.issuer, store.roots(), {
    machineId: s.machine.id,
    nonce: license.nonce,
    now: issuedAt,
  });
  return s.key?.keyClass === 'mak' && s.key.edition === grant.edition ? { grant, license } : null;
}

/**
 * An offline MAK activation: the confirmation must still verify for the stored installation ID,
 * which must name this machine ID and the installed key. Hardware is judged by the same rule
 * as online (its parts against the IID's), so a repair keeps it and a new board starts grace.
 */
function storedOffline(
  store: ClientStore,
  license: StoredOfflineLicense,
): { grant: MakGrant; license: StoredOfflineLicense } | null {
  const s = store.state;
  const iid = parsePublicForm(license.offline.installation);
  if (iid.type !== 'mak')
    throw new VolactError('DOCUMENT_INVALID', {
      type: 'offline MAK activation',
      detail: 'its installation ID is not a MAK installation ID',
    });
  if (!iid.machineRef!.equals(machineRef(s.machine.id)))
    throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: 'another machine', ours: s.machine.id });
  if (s.key?.keyClass !== 'mak' || iid.key.ref !== s.key.edition) return null;
  // -ipk drops the license, so it was applied for this key; the key text (gone after -cpky) confirms it when kept
  if (s.key.text && decodeKey(s.key.text).serial !== iid.key.serial) return null;
  const { cid } = verifyOfflineConfirmation(
    license.offline.confirmationId,
    iid,
    [license.offline.issuer],
    store.roots(),
  );
  let edition: { code: string; name: string } | undefined;
  try {
    const b = store.offlineBundle();
    edition = verifyCatalog(b.catalog, b.catalogIssuer, store.roots()).editions.find((e) => e.number === iid.key.ref);
  } catch {
    edition = undefined; // names are for display only
  }
  const grant: MakGrant = {
    makId: makIdOf(iid.key),
    machineId: s.machine.id,
    nonce: 'offline-confirmation',
    edition: iid.key.ref,
    editionCode: edition?.code ?? String(iid.key.ref),
    editionName: edition?.name ?? `edition ${iid.key.ref}`,
    parts: iid.parts!,
    issuedAt: cid.issuedAt,
    activationsUsed: 0,
    activationsLimit: 0,
  };
  return { grant, license };
}

/** A stored directory activation, re-verified (signature, this machine, this directory, this edition). */
function verifyDirectory(store: ClientStore, license: StoredDirectoryLicense): StoredRead['directory'] {
  const s = store.state;
  const d = license.directory;
  // read by this machine (a copied file is not)
  if (d.machineId !== s.machine.id || d.fingerprintHash !== identityHash(s.machine.madeFor))
    throw new VolactError('ANSWER_MACHINE_MISMATCH', { theirs: String(d.machineId), ours: s.machine.id });
  const object = verifyDirectoryObject(d.value, store.roots(), { directoryId: d.directoryId, name: d.name });
  // from the directory it is joined to now, for this edition
  if (s.key?.keyClass !== 'setup' || !s.directory || d.base !== s.directory.base || d.bindDn !== s.directory.bindDn)
    return null;
  if (!editionCovered(s.key.edition, object, ownCatalog(store), store.roots())) return null;
  // exactly 180 days from a read that is not in the future of this machine's trusted time
  const trustedNow = Math.max(store.now(), s.localHighWater, s.highWater);
  if (
    typeof d.activatedAt !== 'number' ||
    d.validUntil !== d.activatedAt + defaults.validityMs ||
    d.activatedAt > trustedNow
  )
    return null;
  if (s.directoryReadAt !== d.activatedAt) return null;
  return { object, license };
}

/**
 * The license state. A damaged or foreign license.json counts as no activation (the machine
 * is in whatever grace it has, and -ato replaces the file); the reason says so. The
 * out-of-tolerance start it uses was recorded when the store was opened.
 */
export function licenseOf(store: ClientStore): LicenseView {
  const s = store.state;
  const read = store.stored();
  const { grant: stored, directory: dir, mak, vm } = read;
  const makInput = mak
    ? {
        sameHardware: sameHardware(mak.grant.parts, hashedFingerprint(store.fingerprint())),
        outOfToleranceSince: s.outOfToleranceSince,
        offline: 'offline' in mak.license,
      }
    : null;
  return licenseState(
    {
      keyInstalled: s.key !== null,
      graceStart: s.graceStart,
      highWater: s.highWater,
      localHighWater: s.localHighWater,
      grant: stored?.grant ?? null,
      mak: makInput,
      directory: dir ? { name: dir.license.directory.name, validUntil: dir.license.directory.validUntil } : null,
      vm: vm ? { hypervisorName: vm.grant.hypervisorName, validUntil: vm.grant.validUntil } : null,
      problem: read.problem ? problemReason(read.problem) : null,
    },
    store.now(),
  );
}

/**
 * The client's own catalog (catalog.json, which `client trust --authority` fetches), when it
 * verifies to the pinned roots: for a directory activation object, what its group holds now
 * (editionCovered), so an edition the publisher added later is covered without a new object.
 */
export function ownCatalog(store: ClientStore): SignedCatalog | undefined {
  const c = loadCatalog(store.dir);
  if (!c) return undefined;
  try {
    verifyCatalog(c.catalog, c.issuer, store.roots());
  } catch {
    return undefined; // a damaged or foreign catalog.json adds nothing; the object's own list still holds
  }
  return { catalog: c.catalog, issuer: c.issuer };
}
