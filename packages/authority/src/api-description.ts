/**
 * The authority's OpenAPI description: the route table (http.ts) plus what it says about the API
 * as a whole, rendered by the generator every role shares (@volact/protocol openapi.ts).
 */
import { openApiDocument, type ApiInfo, type ErrorCode, type Operation } from '@volact/protocol';
import type { Route } from './http.js';

/** How a product key typed by a caller can be wrong (decodeKey, findHostKey, findMak). */
export const keyErrors: readonly ErrorCode[] = [
  'KEY_MALFORMED',
  'KEY_BAD_CHARACTER',
  'KEY_TYPO',
  'KEY_UNKNOWN',
  'KEY_WRONG_CLASS',
];
/** What a host, hypervisor or directory activation can answer besides a bad key. */
export const slotErrors: readonly ErrorCode[] = [
  ...keyErrors,
  'KEY_LIMIT_HOSTS',
  'KEY_LIMIT_ACTIVATIONS',
  'GROUP_UNKNOWN',
  'RATE_LIMITED',
  'AUTHORITY_NOT_READY',
];

/**
 * An installation ID that cannot be read, or whose key cannot activate: confirmOffline activates
 * through the same paths as online host, hypervisor, directory and MAK activation.
 */
export const confirmErrors: readonly ErrorCode[] = [
  'CODE_MALFORMED',
  'CODE_BAD_CHARACTER',
  'CODE_GROUP_TYPO',
  'INSTALLATION_ID_INVALID',
  ...slotErrors,
  'GROUP_NO_GUEST_EDITIONS',
  'MAK_LIMIT',
];
/** Issuing a key for a group or edition of the catalog. */
export const issueErrors: readonly ErrorCode[] = [
  'GROUP_UNKNOWN',
  'CATALOG_INVALID',
  'VALUE_OUT_OF_RANGE',
  'AUTHORITY_NOT_READY',
];

/** What an admin route answers when the console's session cookie stands in for the bearer token. */
const cookieErrors: readonly ErrorCode[] = ['SESSION_EXPIRED', 'CSRF_REFUSED', 'CROSS_SITE_REFUSED'];

const api: ApiInfo = {
  title: 'volact authority',
  description:
    "The publisher's authority: activates activation hosts, hypervisor agents, directories and MAK machines, confirms installation IDs, takes increase requests, and has an admin API with scoped bearer tokens. Every answer is JSON; every error is the Error body with a stable code (docs/errors.md). docs/protocol.md describes each endpoint.",
  tags: [
    {
      name: 'public',
      description: 'anonymous: hosts, directories, machines and key holders (activations are rate-limited)',
    },
    {
      name: 'console',
      description: "the web console's session: log in with an admin token, get an HttpOnly cookie and a CSRF token",
    },
    {
      name: 'admin',
      description: 'the admin API: a bearer token with the scope named (admin implies all); every write is audited',
    },
  ],
  common: ['INTERNAL', 'TOO_MANY_CONNECTIONS'],
  bearer:
    'vat_… tokens from volact authority token create; scopes read, issue, approve, admin (admin implies all). The web console logs in with a token at POST /v1/console/session and then sends its volact_session cookie instead (changes also need X-CSRF-Token; docs/protocol.md)',
};

/** The OpenAPI 3.1 document, generated from the route table and its request and answer schemas. */
export function openApi(table: Record<string, Route>): Record<string, unknown> {
  const operations: Record<string, Operation> = {
    'GET /v1/openapi.json': {
      summary: 'this description (OpenAPI 3.1)',
      tag: 'public',
      response: { check: () => undefined, describe: () => ({ type: 'object' }) },
    },
  };
  for (const [key, { handle: _handle, limit: _limit, ...route }] of Object.entries(table))
    operations[key] = {
      ...route,
      // the console's session cookie may stand in for the token (console-routes.ts)
      ...(route.scope ? { errors: [...(route.errors ?? []), ...cookieErrors] } : {}),
      tag: key.includes(' /v1/admin/') ? 'admin' : key.includes(' /v1/console/') ? 'console' : 'public',
    };
  return openApiDocument(api, operations);
}
