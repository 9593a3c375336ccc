/**
 * The answers of the authority's and the host's HTTP APIs that wire.ts and documents.ts do not
 * already define: the OpenAPI documents describe every answer with these schemas, and the code
 * that reads an answer parses it with the same one, so the description and the code cannot drift.
 */
import { catalogSchema } from './documents.js';
import { errorTable, type ErrorBody, type ErrorCode, type ErrorParams } from './errors.js';
import { array, bool, int, literal, nullable, obj, optional, str, type Infer, type Schema } from './schema.js';

/** One of several schemas (the first that passes); described as anyOf. */
export function anyOf<T>(...schemas: Schema<T>[]): Schema<T> {
  return {
    check(v, p) {
      let first;
      for (const s of schemas) {
        const problem = s.check(v, p);
        if (!problem) return undefined;
        first ??= problem;
      }
      return first;
    },
    describe: () => ({ anyOf: schemas.map((s) => s.describe()) }),
  };
}

/** Exactly this boolean (`{"ok": true}`). */
export function constant<const B extends boolean>(value: B): Schema<B> {
  return {
    check: (v, p) => (v === value ? undefined : { field: p || '(body)', problem: `must be ${value}` }),
    describe: () => ({ type: 'boolean', const: value }),
  };
}

const paramsSchema: Schema<ErrorParams> = {
  check(v, p) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return { field: p, problem: 'must be an object' };
    for (const [k, x] of Object.entries(v))
      if (typeof x !== 'string' && typeof x !== 'number')
        return { field: `${p}.${k}`, problem: 'must be a string or number' };
    return undefined;
  },
  describe: () => ({
    type: 'object',
    description: "the values filled into the message's placeholders",
    additionalProperties: { type: ['string', 'number'] },
  }),
};

const errorCodes = Object.keys(errorTable) as ErrorCode[];

/** The body of every error answer (errorBody); `codes` narrows the code to those possible. */
export function errorBodySchema(codes: readonly ErrorCode[] = errorCodes): Schema<ErrorBody> {
  return obj({
    code: literal(...codes),
    message: str({ min: 1, max: 4096 }),
    fix: str({ min: 1, max: 4096 }),
    params: paramsSchema,
    requestId: optional(str({ min: 1, max: 128 })),
  }) as Schema<ErrorBody>;
}

const id = str({ min: 1, max: 64 });
const text = str({ min: 0, max: 4096 });
const count = int({ min: 0, max: Number.MAX_SAFE_INTEGER });
/** Milliseconds since 1970. */
const time = int({ min: 0, max: 8.64e15 });
const scopes = array(literal('read', 'issue', 'approve', 'admin'), { min: 1, max: 4 });
/** A key as the admin lists show it: only its last group. */
const maskedKey = str({ min: 29, max: 29, pattern: /^\*{5}-\*{5}-\*{5}-\*{5}-[0-9A-Z]{5}$/ });
const fullKey = str({ min: 29, max: 29 });

// --- both roles ------------------------------------------------------------------------------

/** GET /v1/ready: the role can do its job (else 503 NOT_READY). */
export const readyAnswerSchema = obj({ ready: constant(true) });

// --- authority: public ------------------------------------------------------------------------

/** GET /v1/health on the authority. */
export const authorityHealthSchema = obj({ ok: constant(true) });

/** GET /v1/root: the publisher root public key (PEM) and its key ID. */
export const rootAnswerSchema = obj({ kid: id, publicKey: str({ min: 1, max: 4096 }) });

/** POST /v1/offline-confirmations, and each granted item of the admin bulk call. */
const confirmedFields = {
  type: literal('host', 'mak', 'directory', 'hypervisor'),
  installationId: str({ min: 1, max: 300 }),
  confirmationId: str({ min: 1, max: 1000 }),
  keyId: id,
  outcome: str({ min: 1, max: 64 }),
  used: count,
  limit: count,
};
export const confirmedSchema = obj(confirmedFields);
export type ConfirmedAnswer = Infer<typeof confirmedSchema>;

/** POST /v1/increase-requests (201): the new request's ID; it starts pending. */
export const increaseFiledSchema = obj({ id, state: literal('pending') });

/** An increase request with every step: POST /v1/increase-requests/status, the admin list and decide. */
export const increaseRecordSchema = obj({
  id,
  keyKind: literal('host-key', 'mak'),
  keyId: id,
  what: literal('hosts', 'activations'),
  amount: count,
  reason: text,
  state: literal('pending', 'approved', 'rejected'),
  granted: nullable(count),
  note: nullable(text),
  createdAt: time,
  decidedAt: nullable(time),
  steps: array(obj({ step: str({ min: 1, max: 64 }), at: time, detail: text }), { max: 10_000 }),
});
export type IncreaseRecord = Infer<typeof increaseRecordSchema>;

// --- authority: admin API ---------------------------------------------------------------------

/** GET /v1/admin/host-keys: host and datacenter keys with usage. */
export const hostKeyListSchema = array(
  obj({
    id,
    partial: str({ min: 5, max: 5 }),
    groupCode: id,
    keyClass: literal('host', 'datacenter'),
    maxHosts: count,
    maxActivations: count,
    usedActivations: count,
    hostsUsed: count,
    createdAt: time,
    key: maskedKey,
  }),
  { max: 10_000_000 },
);

/** POST /v1/admin/host-keys (201): the key, shown in this answer only. */
export const issuedHostKeySchema = obj({
  key: fullKey,
  id,
  keyClass: literal('host', 'datacenter'),
  group: id,
  maxHosts: count,
  maxActivations: count,
});

/** POST /v1/admin/datacenter-keys (201): as a host key, with the guest editions it activates. */
export const issuedDatacenterKeySchema = obj({
  key: fullKey,
  id,
  keyClass: literal('host', 'datacenter'),
  group: id,
  maxHosts: count,
  maxActivations: count,
  guestEditions: array(id, { max: 10_000 }),
});

/** GET /v1/admin/maks: MAKs with usage. */
export const makListSchema = array(
  obj({
    id,
    partial: str({ min: 5, max: 5 }),
    edition: count,
    maxActivations: count,
    usedActivations: count,
    createdAt: time,
    key: maskedKey,
  }),
  { max: 10_000_000 },
);

/** POST /v1/admin/maks (201): the MAK, shown in this answer only. */
export const issuedMakSchema = obj({ key: fullKey, id, edition: id, maxActivations: count });

/** GET /v1/admin/requests. */
export const increaseListSchema = array(increaseRecordSchema, { max: 10_000_000 });

/** POST /v1/admin/release-host. */
export const releasedSchema = obj({ released: constant(true) });

/** POST /v1/admin/offline-confirmations: one result per installation ID, in order. */
export const bulkConfirmationAnswerSchema = obj({
  results: array(
    anyOf<unknown>(
      obj({ ok: constant(true), ...confirmedFields }),
      obj({ ok: constant(false), installationId: str({ min: 1, max: 300 }), error: errorBodySchema() }),
    ),
    { max: 1000 },
  ),
});

/** GET /v1/admin/tokens: tokens without their secrets. */
export const tokenListSchema = array(
  obj({ id, name: str({ min: 1, max: 100 }), scopes, createdAt: time, revokedAt: nullable(time) }),
  { max: 1_000_000 },
);

/** POST /v1/admin/tokens (201): the secret, shown in this answer only. */
export const issuedTokenSchema = obj({ id, token: str({ min: 1, max: 200 }), name: str({ min: 1, max: 100 }), scopes });

/** POST /v1/admin/tokens/revoke. */
export const revokedSchema = obj({ revoked: constant(true) });

/** GET /v1/admin/audit: newest first. */
export const auditListSchema = array(
  obj({ seq: count, actor: text, action: str({ min: 1, max: 64 }), target: text, detail: text, at: time }),
  { max: 1000 },
);

/** GET /v1/admin/catalog: the current catalog (products, editions with setup keys, groups) and when it was signed. */
export const adminCatalogSchema = obj({ catalog: catalogSchema, signedAt: time });

/** GET /v1/admin/hosts?key=ID: the hosts holding slots of one host or datacenter key. */
export const keyHostListSchema = obj({
  hosts: array(
    obj({
      hostId: id,
      hostName: str({ min: 0, max: 256 }),
      firstActivatedAt: time,
      lastActivatedAt: time,
      activations: count,
    }),
    { max: 1_000_000 },
  ),
});

/** POST and GET /v1/console/session: who the console session acts as, and its CSRF token (kept in memory by the page). */
export const consoleSessionSchema = obj({
  csrf: str({ min: 20, max: 200 }),
  tokenId: id,
  name: str({ min: 0, max: 100 }),
  scopes,
  expiresAt: time,
});

/** POST /v1/console/session/end. */
export const consoleSessionEndedSchema = obj({ ended: constant(true) });

// --- activation host: client API -------------------------------------------------------------

/** GET /v1/health on an activation host: live, and whether it is activated. */
export const hostHealthSchema = obj({ ok: constant(true), activated: bool });
