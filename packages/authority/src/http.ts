import { createServer, type Server } from 'node:http';
import { hostActivationRequestSchema, increaseRequestSchema, increaseStatusSchema, makActivationRequestSchema, publicKeyToPem, type Root } from '@volact/protocol';
import { readJson, router, sendJson, validate } from '@volact/server-kit';
import type { Authority } from './authority.js';
import type { RateLimiter } from './rate-limiter.js';

/** The authority's public HTTP API. Handlers parse, call one verb, render. */
export function authorityServer(authority: Authority, root: Root, limiter?: RateLimiter): Server {
  return createServer(
    router({
      'GET /v1/health': (_req, res) => sendJson(res, 200, { ok: true }),
      'GET /v1/root': (_req, res) => sendJson(res, 200, { kid: root.kid, publicKey: publicKeyToPem(root.key) }),
      'GET /v1/catalog': async (_req, res) => {
        const { jws, issuer } = await authority.catalog();
        sendJson(res, 200, { catalog: jws, issuer });
      },
      'POST /v1/host-activations': async (req, res) => {
        const body = validate(hostActivationRequestSchema, await readJson(req));
        await limiter?.check(req.socket.remoteAddress ?? '?', body.hostKey);
        sendJson(res, 200, await authority.activateHost(body));
      },
      'POST /v1/increase-requests': async (req, res) => {
        const body = validate(increaseRequestSchema, await readJson(req));
        await limiter?.check(req.socket.remoteAddress ?? '?', body.key);
        sendJson(res, 201, await authority.requestIncrease(body));
      },
      'POST /v1/increase-requests/status': async (req, res) => {
        const body = validate(increaseStatusSchema, await readJson(req));
        await limiter?.check(req.socket.remoteAddress ?? '?', body.key);
        sendJson(res, 200, await authority.increaseStatus(body.id, body.key));
      },
      'POST /v1/mak-activations': async (req, res) => {
        const body = validate(makActivationRequestSchema, await readJson(req));
        await limiter?.check(req.socket.remoteAddress ?? '?', body.makKey);
        sendJson(res, 200, await authority.activateMak(body));
      },
    }),
  );
}
