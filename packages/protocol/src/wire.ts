import { directoryIdSchema, hashedPartsSchema, objectNameSchema, vmUuidSchema } from './documents.js';
import { array, bool, int, literal, obj, optional, str, type Infer, type Schema } from './schema.js';

/** License states as shown to users (the Windows names). */
export const licenseStates = ['unlicensed', 'initialGrace', 'licensed', 'ootGrace', 'notification'] as const;
export type LicenseState = (typeof licenseStates)[number];

const key = str({ min: 1, max: 64 }); // the key codec names what is wrong with it
/** A machine's name as it reports it: printed in tables and logs, so no control or format characters. */
const nameSchema = str({ min: 1, max: 128 });
const machineName: Schema<string> = {
  check: (v, p) =>
    nameSchema.check(v, p) ??
    (/[\p{Cc}\p{Cf}]/u.test(v as string)
      ? { field: p, problem: 'must not hold control characters (such as escape sequences)' }
      : undefined),
  describe: () => ({ ...(nameSchema.describe() as object), pattern: '^[^\\p{Cc}\\p{Cf}]+$' }),
};
const jws = str({ min: 1, max: 1024 * 1024 });

/** POST /v1/activate on an activation host. */
export const activateRequestSchema = obj({
  v: literal(1),
  machineId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ }),
  fingerprintHash: str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/ }),
  setupKey: key,
  nonce: str({ min: 16, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
  clientTime: int({ min: 0, max: 8.64e15 }),
  licenseState: literal(...licenseStates),
  vm: bool,
  machineName: optional(machineName),
});
export type ActivateRequest = Infer<typeof activateRequestSchema>;

/**
 * The answer to POST /v1/activate: the signed answer, the host's certificate and its issuer
 * (verified by the client against its pinned root); for an edition the certificate does not
 * list, the newer signed catalog that puts it in the certificate's group (editionCovered).
 */
export const hostAnswerSchema = obj({
  answer: jws,
  certificate: jws,
  issuer: jws,
  catalog: optional(jws),
  catalogIssuer: optional(jws),
});

/**
 * POST /v1/activate on a hypervisor agent's guest channel (link-local, guests only): a guest
 * with a VM key asks for a 7-day grant. The agent answers only a VM of its inventory asking from
 * one of that VM's own network interfaces.
 */
export const vmActivateRequestSchema = obj({
  v: literal(1),
  vmUuid: vmUuidSchema,
  machineId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ }),
  fingerprintHash: str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/ }),
  vmKey: key,
  nonce: str({ min: 16, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
  clientTime: int({ min: 0, max: 8.64e15 }),
  machineName: optional(machineName),
});
export type VmActivateRequest = Infer<typeof vmActivateRequestSchema>;

/** The agent's answer: its grant (volact.vm-grant), its hypervisor certificate and that certificate's issuer. */
export const vmAnswerSchema = obj({
  grant: jws,
  certificate: jws,
  issuer: jws,
  catalog: optional(jws),
  catalogIssuer: optional(jws),
});

/**
 * POST /v1/host-activations on the authority (a host key), and POST /v1/hypervisor-activations
 * (a datacenter key in `hostKey`, the agent's public key and name): the same body and answer.
 */
export const hostActivationRequestSchema = obj({
  v: literal(1),
  hostKey: key,
  hostPublicKey: str({ min: 43, max: 43, pattern: /^[A-Za-z0-9_-]+$/ }),
  hostName: str({ min: 1, max: 128 }),
  requestId: str({ min: 16, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
});
export type HostActivationRequest = Infer<typeof hostActivationRequestSchema>;

export const hostActivationAnswerSchema = obj({
  certificate: jws,
  issuer: jws,
  catalog: jws,
  catalogIssuer: jws,
  hostsUsed: int({ min: 0, max: 1_000_000 }),
  hostsLimit: int({ min: 0, max: 1_000_000 }),
  activationsUsed: int({ min: 0, max: 1_000_000 }),
  activationsLimit: int({ min: 0, max: 1_000_000 }),
});
export type HostActivationAnswer = Infer<typeof hostActivationAnswerSchema>;

/**
 * POST /v1/directory-activations on the authority: a host key activates one directory (like a
 * host: one host slot per directory, one activation per object). Idempotent on requestId.
 */
export const directoryActivationRequestSchema = obj({
  v: literal(1),
  hostKey: key,
  directoryId: directoryIdSchema,
  directoryKind: literal('openldap', 'active-directory'),
  suffix: str({ min: 1, max: 512 }),
  name: objectNameSchema,
  requestId: str({ min: 16, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
});
export type DirectoryActivationRequest = Infer<typeof directoryActivationRequestSchema>;

export const directoryActivationAnswerSchema = obj({
  object: jws,
  issuer: jws,
  hostsUsed: int({ min: 0, max: 1_000_000 }),
  hostsLimit: int({ min: 0, max: 1_000_000 }),
  activationsUsed: int({ min: 0, max: 1_000_000 }),
  activationsLimit: int({ min: 0, max: 1_000_000 }),
});
export type DirectoryActivationAnswer = Infer<typeof directoryActivationAnswerSchema>;

/**
 * POST /v1/mak-activations on the authority. Idempotent on (key, machine): the same machine on
 * hardware within tolerance is answered again without using an activation.
 */
export const makActivationRequestSchema = obj({
  v: literal(1),
  makKey: key,
  machineId: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9._:-]+$/ }),
  parts: hashedPartsSchema,
  nonce: str({ min: 16, max: 64, pattern: /^[A-Za-z0-9_-]+$/ }),
});
export type MakActivationRequest = Infer<typeof makActivationRequestSchema>;

export const makActivationAnswerSchema = obj({ grant: jws, issuer: jws });
export type MakActivationAnswer = Infer<typeof makActivationAnswerSchema>;

/** GET /v1/catalog: the signed catalog and the certificate of the key that signed it. */
export const catalogAnswerSchema = obj({ catalog: jws, issuer: jws });
export type CatalogAnswer = Infer<typeof catalogAnswerSchema>;

/** POST /v1/increase-requests: a customer asks for more, proving ownership by the key itself. */
export const increaseRequestSchema = obj({
  v: literal(1),
  key,
  what: literal('activations', 'hosts'),
  amount: int({ min: 1, max: 1_000_000 }),
  reason: str({ min: 1, max: 1000 }),
});
export type IncreaseRequestBody = Infer<typeof increaseRequestSchema>;

/** POST /v1/increase-requests/status: the state of one request, for the key holder. */
export const increaseStatusSchema = obj({
  v: literal(1),
  key,
  id: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9-]+$/ }),
});

/** POST /v1/offline-confirmations (public, rate-limited) and one item of the admin bulk call. */
export const offlineConfirmationRequestSchema = obj({ v: literal(1), installationId: str({ min: 1, max: 300 }) });

/** POST /v1/admin/offline-confirmations: proxy activation in bulk (token with the issue scope). */
export const bulkConfirmationRequestSchema = obj({
  v: literal(1),
  installationIds: array(str({ min: 1, max: 300 }), { min: 1, max: 1000 }),
});

/** Admin API request bodies (bearer token; scope in docs/protocol.md). */
const issueSlotKey = obj({
  v: literal(1),
  group: str({ min: 1, max: 64 }),
  hosts: optional(int({ min: 1, max: 100_000 })),
  activations: optional(int({ min: 1, max: 100_000 })),
});

export const adminSchemas = {
  issueHostKey: issueSlotKey,
  /** POST /v1/admin/datacenter-keys: the same body as a host key's; the group needs a guest edition. */
  issueDatacenterKey: issueSlotKey,
  issueMak: obj({ v: literal(1), edition: str({ min: 1, max: 64 }), activations: int({ min: 1, max: 10_000_000 }) }),
  decide: obj({
    v: literal(1),
    id: str({ min: 1, max: 64, pattern: /^[A-Za-z0-9-]+$/ }),
    decision: literal('approve', 'reject'),
    amount: optional(int({ min: 1, max: 10_000_000 })),
    note: optional(str({ min: 1, max: 1000 })),
  }),
  releaseHost: obj({ v: literal(1), hostKeyId: str({ min: 1, max: 64 }), hostId: str({ min: 1, max: 64 }) }),
  createToken: obj({
    v: literal(1),
    name: str({ min: 1, max: 100 }),
    scopes: array(literal('read', 'issue', 'approve', 'admin'), { min: 1, max: 4 }),
  }),
  revokeToken: obj({ v: literal(1), id: str({ min: 1, max: 64 }) }),
};
