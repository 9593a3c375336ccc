import { VolactError, type Schema } from '@volact/protocol';
import { adminEndpoint, endpointMayAnswer, requestJson, type RequestFailed } from '@volact/io';

/**
 * The largest admin answer is `host machines --limit 100000`: rows of at most about 1.2 KB (a
 * 128-character machine name escaped), some 120 MB. The bound only stops a runaway answer.
 */
const MAX_ANSWER = 256 * 1024 * 1024;
/**
 * The host answers once it has done the work: `-ato` waits for the authority (up to 15 s a key),
 * `host unpublish` for the DNS server. The deadline only ends a hung host.
 */
const TIMEOUT_MS = 5 * 60_000;

/** The host's own answers, from the same version on this machine; the callers name their type. */
const hostAnswer: Schema<unknown> = { check: () => undefined, describe: () => ({}) };

/**
 * Calls the admin API of a running host (or, with `unavailable` HYPERVISOR_UNAVAILABLE, a
 * hypervisor agent) over its Unix socket, or its named pipe on Windows (local administrators only).
 */
export function adminCall<T>(
  dir: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  unavailable: 'ADMIN_UNAVAILABLE' | 'HYPERVISOR_UNAVAILABLE' = 'ADMIN_UNAVAILABLE',
): Promise<T> {
  const endpoint = adminEndpoint(dir);
  const socketPath = endpoint.path;
  if (!endpointMayAnswer(endpoint)) return Promise.reject(new VolactError(unavailable, { dir }));
  const fail = (e: RequestFailed): VolactError => {
    const f = e.failure;
    if (f.kind === 'network' && (f.code === 'ECONNREFUSED' || f.code === 'ENOENT'))
      return new VolactError(unavailable, { dir });
    return new VolactError('INTERNAL', {
      requestId: f.kind === 'status' ? `admin ${f.status}` : `admin: ${e.message}`,
    });
  };
  return requestJson(
    { socketPath, path },
    { method, body, limit: MAX_ANSWER, timeoutMs: TIMEOUT_MS, answer: hostAnswer as Schema<T>, fail },
  );
}
