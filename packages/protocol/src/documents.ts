import { VolactError } from './errors.js';
import {
  array,
  bool,
  int,
  literal,
  nullable,
  obj,
  optional,
  parseWith,
  str,
  type Infer,
  type Schema,
} from './schema.js';

/** Signed document types and the versions this release reads. */
export const docTypes = {
  issuer: 'volact.issuer',
  catalog: 'volact.catalog',
  hostCert: 'volact.host-cert',
  grant: 'volact.grant',
  countInsufficient: 'volact.count-insufficient',
  refusal: 'volact.refusal',
  makGrant: 'volact.mak-grant',
  directoryObject: 'volact.directory-object',
  hypervisorCert: 'volact.hypervisor-cert',
  vmGrant: 'volact.vm-grant',
  logCheckpoint: 'volact.log-checkpoint',
} as const;
export const DOC_VERSION = 1;
export const readableVersions = [1] as const;

const time = int({ min: 0, max: 8.64e15 });
const id = str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ });
const rawKey = str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/ });
const name = str({ min: 1, max: 128 });
const hash = str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/ });
const nonce = str({ min: 16, max: 64, pattern: /^[A-Za-z0-9_-]+$/ });
const editionNumber = int({ min: 0, max: 0xffff });
const minutes = int({ min: 15, max: 43_200 });

export const issuerPurposes = ['host-cert', 'catalog', 'mak-grant', 'directory', 'hypervisor', 'offline'] as const;
export type IssuerPurpose = (typeof issuerPurposes)[number];

/** Root-signed certificate of an issuing key. */
export const issuerSchema = obj({
  kid: id,
  purpose: literal(...issuerPurposes),
  publicKey: rawKey,
  root: id,
  notBefore: time,
  notAfter: time,
});
export type IssuerCert = Infer<typeof issuerSchema>;

export const editionSchema = obj({
  number: editionNumber,
  code: id,
  name,
  product: id,
  kind: literal('client', 'server'),
  setupKey: str({ min: 29, max: 29 }),
  /** The public VM key of an edition that may run as a guest of a hypervisor agent (like an AVMA key). */
  vmKey: optional(str({ min: 29, max: 29 })),
});
export type Edition = Infer<typeof editionSchema>;

export const groupSchema = obj({
  number: editionNumber,
  code: id,
  name,
  kind: literal('client', 'server'),
  editions: array(editionNumber, { max: 1024 }),
});
export type ProductGroup = Infer<typeof groupSchema>;

export const catalogSchema = obj({
  serial: int({ min: 1, max: 2 ** 31 }),
  issuedAt: time,
  products: array(obj({ code: id, name }), { max: 256 }),
  editions: array(editionSchema, { max: 4096 }),
  groups: array(groupSchema, { max: 1024 }),
});
export type Catalog = Infer<typeof catalogSchema>;

export const certEditionSchema = obj({ number: editionNumber, code: id, name, kind: literal('client', 'server') });
export type CertEdition = Infer<typeof certEditionSchema>;

/** The authority's certificate for one host and one host key: what the host may activate. */
export const hostCertSchema = obj({
  hostId: id,
  hostKeyId: id,
  hostPublicKey: rawKey,
  hostName: name,
  group: id,
  editions: array(certEditionSchema, { max: 4096 }),
  issuedAt: time,
  notAfter: nullable(time),
  activation: int({ min: 1, max: 1_000_000 }),
});
export type HostCert = Infer<typeof hostCertSchema>;

/**
 * The authority's certificate for one hypervisor agent and one datacenter key (signed by the
 * `hypervisor` issuing key): the same fields as a host certificate, where hostId is the agent's
 * ID, hostKeyId the datacenter key's and editions the guest editions it may activate.
 */
export const hypervisorCertSchema = hostCertSchema;
export type HypervisorCert = HostCert;

/** A VM UUID (SMBIOS product UUID), lowercase. */
export const vmUuidSchema = str({
  min: 36,
  max: 36,
  pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
});

/**
 * A hypervisor agent's grant to one of its guests: signed by the agent's own key, which its
 * hypervisor certificate binds; valid 7 days, renewed every `renewalMinutes`. No count.
 */
export const vmGrantSchema = obj({
  machineId: id,
  vmUuid: vmUuidSchema,
  fingerprintHash: hash,
  nonce,
  edition: editionNumber,
  editionCode: id,
  editionName: name,
  hypervisorId: id,
  hypervisorName: name,
  issuedAt: time,
  validUntil: time,
  renewalMinutes: minutes,
});
export type VmGrant = Infer<typeof vmGrantSchema>;

const answerCommon = {
  machineId: id,
  nonce,
  edition: editionNumber,
  hostId: id,
  hostName: name,
  issuedAt: time,
  count: int({ min: 0, max: 2 ** 31 }),
  required: int({ min: 1, max: 1_000_000 }),
  renewalMinutes: minutes,
  retryMinutes: minutes,
};

/** A host's grant to one machine: valid until `validUntil`, renewed every `renewalMinutes`. */
export const grantSchema = obj({ ...answerCommon, fingerprintHash: hash, validUntil: time });
export type Grant = Infer<typeof grantSchema>;

export const countInsufficientSchema = obj(answerCommon);
export type CountInsufficient = Infer<typeof countInsufficientSchema>;

/** A signed refusal: the host cannot activate this machine (edition, clock). */
export const refusalSchema = obj({
  ...answerCommon,
  code: literal('EDITION_NOT_COVERED', 'CLOCK_SKEW'),
  vm: optional(bool),
});
export type Refusal = Infer<typeof refusalSchema>;

/** Hardware parts as the authority sees them: each one hashed, so no serial number leaves the site. */
export const hashedPartsSchema = obj({
  osId: hash,
  cpu: hash,
  board: hash,
  disks: array(hash, { max: 64 }),
  nics: array(hash, { max: 64 }),
});

/**
 * What an air-gapped machine or host needs besides the root to use offline confirmations: the
 * offline issuing key's certificate and the catalog. `volact authority offline-bundle` writes it.
 */
export const offlineBundleSchema = obj({
  v: literal(1),
  kind: literal('volact.offline-bundle'),
  root: str({ min: 1, max: 4096 }),
  offlineIssuer: str({ min: 1, max: 16 * 1024 }),
  catalog: str({ min: 1, max: 512 * 1024 }),
  catalogIssuer: str({ min: 1, max: 16 * 1024 }),
});
export type OfflineBundle = Infer<typeof offlineBundleSchema>;
export type HashedParts = Infer<typeof hashedPartsSchema>;

/** The authority's permanent activation of one machine with a MAK, bound to its hardware. */
export const makGrantSchema = obj({
  makId: id,
  machineId: id,
  nonce,
  edition: editionNumber,
  editionCode: id,
  editionName: name,
  parts: hashedPartsSchema,
  issuedAt: time,
  activationsUsed: int({ min: 0, max: 100_000_000 }),
  activationsLimit: int({ min: 0, max: 100_000_000 }),
});
export type MakGrant = Infer<typeof makGrantSchema>;

/** A directory's identity: an ID the directory server generated (entryUUID, objectGUID), as a lowercase UUID. */
export const directoryIdSchema = str({
  min: 36,
  max: 36,
  pattern: /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
});
/** Activation object names: what the directory administrator sees (at most 40 characters, as AD's). */
export const objectNameSchema = str({ min: 1, max: 40, pattern: /^[A-Za-z0-9]([A-Za-z0-9 ._-]*[A-Za-z0-9._-])?$/ });

/**
 * A directory activation object: signed by the authority's directory issuing key for one
 * directory (bound to its server-generated ID, not only to its suffix) and one host key's
 * product group. Members of that directory activate from it for 180 days at a time.
 */
export const directoryObjectSchema = obj({
  objectId: id,
  name: objectNameSchema,
  directoryId: directoryIdSchema,
  directoryKind: literal('openldap', 'active-directory'),
  suffix: str({ min: 1, max: 512 }),
  hostKeyId: id,
  group: id,
  editions: array(certEditionSchema, { max: 4096 }),
  issuedAt: time,
  activation: int({ min: 1, max: 1_000_000 }),
});
export type DirectoryObject = Infer<typeof directoryObjectSchema>;

/** Validates a verified payload; content errors name the document type. */
export function readPayload<T>(type: string, schema: Schema<T>, payload: unknown): T {
  return parseWith(
    schema,
    payload,
    (p) => new VolactError('DOCUMENT_INVALID', { type, detail: `${p.field} ${p.problem}` }),
  );
}
