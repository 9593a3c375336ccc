import { VolactError, fromErrorBody, parseWith, type Schema } from '@volact/protocol';

export type Post = (url: string, body: unknown) => Promise<{ status: number; body: unknown }>;
export type Get = (url: string) => Promise<{ status: number; body: unknown }>;

/** Largest answer read from an authority: documents stay under 1 MiB. */
const MAX_ANSWER = 2 * 1024 * 1024;

/** POSTs JSON; resolves with status and parsed body (undefined when not JSON), rejects on network failure. */
export const postJson: Post = async (url, body) =>
  readAnswer(await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(15_000) }));

/** GETs a JSON document, as postJson. */
export const getJson: Get = async (url) => readAnswer(await fetch(url, { signal: AbortSignal.timeout(15_000) }));

async function readAnswer(res: Response): Promise<{ status: number; body: unknown }> {
  const text = await res.text();
  if (text.length > MAX_ANSWER) throw new Error('answer too large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, body: parsed };
}

/**
 * Calls the authority: a network failure or an answer of the wrong shape is AUTHORITY_UNREACHABLE
 * with the reason; an error answer keeps the authority's own code (so a limit stays a limit).
 */
export async function callAuthority<T>(base: string, path: string, body: unknown, answer: Schema<T>, post: Post = postJson): Promise<T> {
  return readAuthority(base, answer, () => post(new URL(path, base).toString(), body));
}

/** GETs a document from the authority, with callAuthority's errors. */
export function getFromAuthority<T>(base: string, path: string, answer: Schema<T>, get: Get = getJson): Promise<T> {
  return readAuthority(base, answer, () => get(new URL(path, base).toString()));
}

async function readAuthority<T>(base: string, answer: Schema<T>, call: () => Promise<{ status: number; body: unknown }>): Promise<T> {
  let reply: { status: number; body: unknown };
  try {
    reply = await call();
  } catch (err) {
    throw new VolactError('AUTHORITY_UNREACHABLE', { target: base, reason: err instanceof Error ? err.message : String(err) });
  }
  if (reply.status < 200 || reply.status > 299) throw fromErrorBody(reply.body) ?? new VolactError('AUTHORITY_UNREACHABLE', { target: base, reason: `HTTP ${reply.status}` });
  return parseWith(answer, reply.body, (p) => new VolactError('AUTHORITY_UNREACHABLE', { target: base, reason: `unexpected answer: ${p.field} ${p.problem}` }));
}
