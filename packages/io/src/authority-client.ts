import { VolactError, type Schema } from '@volact/protocol';
import { exchangeJson, expectAnswer, type JsonReply, type RequestFailed } from './request-json.js';

export type Post = (url: string, body: unknown) => Promise<JsonReply>;
export type Get = (url: string) => Promise<JsonReply>;

/** Largest answer read from an authority: documents stay under 1 MiB. */
const MAX_ANSWER = 2 * 1024 * 1024;
/** docs/operations.md and docs/protocol.md promise that a host and a client give up after 15 seconds. */
const TIMEOUT_MS = 15_000;

/** POSTs JSON; resolves with status and parsed body (undefined when not JSON), rejects on network failure. */
export const postJson: Post = (url, body) =>
  exchangeJson(url, { method: 'POST', body, limit: MAX_ANSWER, timeoutMs: TIMEOUT_MS });

/** GETs a JSON document, as postJson. */
export const getJson: Get = (url) => exchangeJson(url, { method: 'GET', limit: MAX_ANSWER, timeoutMs: TIMEOUT_MS });

/**
 * Calls the authority: a network failure or an answer of the wrong shape is AUTHORITY_UNREACHABLE
 * with the reason; an error answer keeps the authority's own code (so a limit stays a limit).
 */
export function callAuthority<T>(
  base: string,
  path: string,
  body: unknown,
  answer: Schema<T>,
  post: Post = postJson,
): Promise<T> {
  // the URL is made inside the exchange, so a malformed base is AUTHORITY_UNREACHABLE with its reason
  return expectAnswer(() => post(new URL(path, base).toString(), body), answer, unreachable(base));
}

/** GETs a document from the authority, with callAuthority's errors. */
export function getFromAuthority<T>(base: string, path: string, answer: Schema<T>, get: Get = getJson): Promise<T> {
  return expectAnswer(() => get(new URL(path, base).toString()), answer, unreachable(base));
}

const unreachable = (base: string) => (e: RequestFailed) =>
  new VolactError('AUTHORITY_UNREACHABLE', { target: base, reason: e.message });
