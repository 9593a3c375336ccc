import {
  VolactError,
  adminSchemas,
  auditListSchema,
  issuedTokenSchema,
  revokedSchema,
  tokenListSchema,
  type Infer,
  type QueryParam,
} from '@volact/protocol';
import type { Authority } from './authority.js';
import type { Route } from './http.js';

type Limit = { default: number; min: number; max: number };
const AUDIT_LIMIT: Limit = { default: 100, min: 1, max: 1000 };

/** The `limit` query parameter as the API description shows it. */
export function limitQuery(description: string, l: Limit): QueryParam {
  return { description, schema: { type: 'integer', minimum: l.min, maximum: l.max, default: l.default } };
}

/** The `limit` query parameter as the handler reads it: digits within its range, else VALUE_OUT_OF_RANGE. */
export function limitParam(url: URL, l: Limit): number {
  const text = url.searchParams.get('limit') ?? String(l.default);
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < l.min || limit > l.max)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'limit', min: l.min, max: l.max, value: text.slice(0, 20) });
  return limit;
}

/** Tokens and the audit log. */
export function adminTokenRoutes(authority: Authority): Record<string, Route> {
  return {
    'GET /v1/admin/tokens': {
      summary: 'API tokens (never their secrets)',
      scope: 'admin',
      response: tokenListSchema,
      handle: async () => (await authority.listTokens()).map(({ tokenHash: _hash, ...t }) => t),
    },
    'POST /v1/admin/tokens': {
      summary: 'create a token (the secret is shown in this answer only)',
      scope: 'admin',
      body: adminSchemas.createToken,
      status: 201,
      response: issuedTokenSchema,
      handle: ({ actor }, b: Infer<typeof adminSchemas.createToken>) => authority.createToken(b.name, b.scopes, actor),
    },
    'POST /v1/admin/tokens/revoke': {
      summary: 'revoke a token',
      scope: 'admin',
      body: adminSchemas.revokeToken,
      response: revokedSchema,
      errors: ['REQUEST_UNKNOWN'],
      handle: async ({ actor }, b: Infer<typeof adminSchemas.revokeToken>) => {
        await authority.revokeToken(b.id, actor);
        return { revoked: true };
      },
    },
    'GET /v1/admin/audit': {
      summary: 'the audit log, newest first (?limit=1..1000)',
      scope: 'admin',
      query: { limit: limitQuery('how many entries, newest first', AUDIT_LIMIT) },
      response: auditListSchema,
      errors: ['VALUE_OUT_OF_RANGE'],
      handle: ({ url }) => authority.auditLog(limitParam(url, AUDIT_LIMIT)),
    },
  };
}
