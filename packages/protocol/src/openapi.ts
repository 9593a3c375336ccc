/**
 * The one OpenAPI 3.1 generator: the authority and the activation host each describe their
 * routes in a table (method and path, summary, request and answer schemas, the error codes an
 * operation can answer) and serve the document made from it at GET /v1/openapi.json. The request
 * schemas validate the requests and the answer schemas are the ones the callers parse answers
 * with, so the document cannot drift from the code.
 */
import { errorTable, type ErrorCode } from './errors.js';
import { errorBodySchema } from './responses.js';
import type { Schema } from './schema.js';

/** A query parameter: what it does, and the JSON Schema of its value. */
export type QueryParam = { description: string; schema: Record<string, unknown> };

/** One operation, keyed "METHOD /path" in its table. */
export type Operation = {
  summary: string;
  /** Derived from the key when absent: "GET /v1/admin/host-keys" → getAdminHostKeys. */
  operationId?: string;
  tag: string;
  /** A bearer token with this scope (or admin) is needed; absent: public. */
  scope?: string;
  /** The request body (JSON). */
  body?: Schema<unknown>;
  /** The success answer, at `status` (200 unless said). */
  response?: Schema<unknown>;
  status?: number;
  /** The codes this operation can answer besides the ones every operation can (see openApiDocument). */
  errors?: readonly ErrorCode[];
  query?: Record<string, QueryParam>;
  /** Answers other than the success and the error body, by status (a host's signed refusals). */
  answers?: Record<number, { description: string; schema: Schema<unknown> }>;
};

export type ApiInfo = {
  title: string;
  description: string;
  tags: { name: string; description: string }[];
  /** Codes any operation of this API may answer (INTERNAL, TOO_MANY_CONNECTIONS, …). */
  common: readonly ErrorCode[];
  /** The bearer scheme's description, when some operation has a scope. */
  bearer?: string;
};

/** What reading a JSON body can answer (io's readJson and validate). */
export const bodyErrors: readonly ErrorCode[] = [
  'BAD_JSON',
  'BAD_REQUEST',
  'BAD_ENCODING',
  'REQUEST_INCOMPLETE',
  'BODY_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
];

/** What checking a bearer token can answer. */
export const tokenErrors: readonly ErrorCode[] = ['TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_SCOPE'];

/** Codes whose answer carries Retry-After (the error's retryAfter parameter). */
const retryCodes: readonly ErrorCode[] = ['RATE_LIMITED', 'TOO_MANY_CONNECTIONS'];

const reasons: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

/** "POST /v1/increase-requests/status" → postIncreaseRequestsStatus. */
export function operationIdOf(key: string): string {
  const [method, path] = key.split(' ') as [string, string];
  const words = path
    .split(/[/.-]/)
    .filter((w) => w && w !== 'v1')
    .map((w) => w[0]!.toUpperCase() + w.slice(1));
  return method.toLowerCase() + words.join('');
}

/** Every code `op` can answer: its own, the API's common ones, body and token checks. */
export function codesOf(api: Pick<ApiInfo, 'common'>, op: Operation): ErrorCode[] {
  const all = [...api.common, ...(op.body ? bodyErrors : []), ...(op.scope ? tokenErrors : []), ...(op.errors ?? [])];
  return [...new Set(all)];
}

const json = (schema: unknown) => ({ 'application/json': { schema } });

/** The error answers of one operation, one per status, each naming exactly its possible codes. */
function errorResponses(api: ApiInfo, op: Operation): Record<string, Record<string, unknown>> {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codesOf(api, op)) {
    const status: number = errorTable[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, Record<string, unknown>> = {};
  for (const [status, codes] of [...byStatus].sort(([a], [b]) => a - b)) {
    const error = { allOf: [{ $ref: '#/components/schemas/Error' }, { properties: { code: { enum: codes } } }] };
    const other = op.answers?.[status];
    const retry = codes.filter((c) => retryCodes.includes(c));
    out[String(status)] = {
      description: `${reasons[status] ?? 'Error'}: ${codes.join(', ')}${other ? `; or ${other.description}` : ''}`,
      ...(retry.length
        ? {
            headers: {
              'Retry-After': {
                $ref:
                  retry.length === codes.length
                    ? '#/components/headers/RetryAfter'
                    : '#/components/headers/RetryAfterSometimes',
              },
            },
          }
        : {}),
      content: json(other ? { anyOf: [other.schema.describe(), error] } : error),
    };
  }
  return out;
}

function operationObject(api: ApiInfo, key: string, op: Operation): Record<string, unknown> {
  const success = op.status ?? 200;
  const responses: Record<string, unknown> = {
    [String(success)]: {
      description: reasons[success] ?? 'Success',
      ...(op.response ? { content: json(op.response.describe()) } : {}),
    },
    ...errorResponses(api, op),
  };
  for (const [status, other] of Object.entries(op.answers ?? {}))
    responses[status] ??= { description: other.description, content: json(other.schema.describe()) };
  return {
    operationId: op.operationId ?? operationIdOf(key),
    summary: op.summary,
    tags: [op.tag],
    security: op.scope ? [{ bearer: [op.scope] }] : [],
    ...(op.scope ? { 'x-volact-scope': op.scope } : {}),
    ...(op.query
      ? {
          parameters: Object.entries(op.query).map(([name, q]) => ({
            name,
            in: 'query',
            required: false,
            description: q.description,
            schema: q.schema,
          })),
        }
      : {}),
    ...(op.body ? { requestBody: { required: true, content: json(op.body.describe()) } } : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of one API. */
export function openApiDocument(api: ApiInfo, operations: Record<string, Operation>): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [key, op] of Object.entries(operations)) {
    const [method, path] = key.split(' ') as [string, string];
    paths[path] ??= {};
    paths[path][method.toLowerCase()] = operationObject(api, key, op);
  }
  const retryAfter = 'seconds to wait before trying again';
  return {
    openapi: '3.1.0',
    info: {
      title: api.title,
      version: '1',
      description: api.description,
      license: { name: 'Apache-2.0', identifier: 'Apache-2.0' },
    },
    // relative: the server this document is served from (it is always served by the API it describes)
    servers: [{ url: '/', description: 'the server that serves this document' }],
    tags: api.tags,
    paths,
    components: {
      ...(api.bearer
        ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: api.bearer } } }
        : {}),
      headers: {
        RetryAfter: { description: retryAfter, required: true, schema: { type: 'integer', minimum: 0 } },
        RetryAfterSometimes: {
          description: `${retryAfter} (with the codes that say so: RATE_LIMITED, TOO_MANY_CONNECTIONS)`,
          schema: { type: 'integer', minimum: 0 },
        },
      },
      schemas: {
        Error: {
          ...(errorBodySchema().describe() as object),
          description: 'every error answer: a stable code (docs/errors.md), a plain message and the fix',
        },
      },
    },
  };
}
