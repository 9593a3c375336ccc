/**
 * The OpenAPI description of an activation host's client API, rendered once by the generator
 * every role shares (@volact/protocol openapi.ts) and served at GET /v1/openapi.json on the client
 * port. The request schema is the one the host validates with; the answer schemas are the ones
 * clients parse answers with.
 */
import {
  activateRequestSchema,
  hostAnswerSchema,
  hostHealthSchema,
  openApiDocument,
  readyAnswerSchema,
  type ApiInfo,
  type Operation,
} from '@volact/protocol';

const api: ApiInfo = {
  title: 'volact activation host: client API',
  description:
    "An activation host's client port: machines on the networks it serves ask it for activation (POST /v1/activate), and load balancers and service managers ask whether it lives and is ready. A request from another network is answered 403 NETWORK_NOT_SERVED. Every error is the Error body with a stable code (docs/errors.md); docs/protocol.md describes each endpoint.",
  tags: [{ name: 'client', description: 'what client machines, load balancers and service managers call' }],
  common: ['INTERNAL', 'TOO_MANY_CONNECTIONS', 'NETWORK_NOT_SERVED'],
};

const operations: Record<string, Operation> = {
  'GET /v1/health': {
    summary: 'liveness: the process answers, and whether the host is activated',
    tag: 'client',
    response: hostHealthSchema,
  },
  'GET /v1/ready': {
    summary: 'readiness: the database answers and the host is activated (else 503 NOT_READY)',
    tag: 'client',
    response: readyAnswerSchema,
    errors: ['NOT_READY'],
  },
  'POST /v1/activate': {
    summary:
      'activate a machine: a signed answer (granted, or not yet: too few machines counted) with the host certificate, or a signed refusal (403: edition not covered, clock skew)',
    tag: 'client',
    body: activateRequestSchema,
    response: hostAnswerSchema,
    // a setup key the host cannot read or does not know (host.ts activateClient)
    errors: [
      'KEY_MALFORMED',
      'KEY_BAD_CHARACTER',
      'KEY_TYPO',
      'KEY_HOST_ON_CLIENT',
      'KEY_WRONG_CLASS',
      'KEY_UNKNOWN',
      'HOST_NOT_ACTIVATED',
    ],
    answers: {
      403: { description: 'a signed refusal (edition not covered, clock skew)', schema: hostAnswerSchema },
    },
  },
  'GET /v1/openapi.json': {
    summary: 'this description (OpenAPI 3.1)',
    tag: 'client',
    response: { check: () => undefined, describe: () => ({ type: 'object' }) },
  },
};

/** The document, made once. */
export const clientApiDocument = openApiDocument(api, operations);
