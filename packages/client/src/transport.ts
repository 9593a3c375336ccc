import { request } from 'node:http';
import { VolactError, fromErrorBody, hostAnswerSchema, parseWith, type ActivateRequest, type HostAnswerBundle } from '@volact/protocol';

export type HostTarget = { host: string; port: number };

/** host:port as an operator types it, with brackets around an IPv6 address. */
export function targetLabel(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

const MAX_ANSWER = 2 * 1024 * 1024; // a host certificate lists its editions; documents stay under 1 MiB

/** POSTs an activation request; resolves with the status and parsed body, rejects on network failure. */
export function postActivate(target: HostTarget, body: ActivateRequest, timeoutMs = 10_000): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const text = JSON.stringify(body);
    const req = request(
      { host: target.host, port: target.port, method: 'POST', path: '/v1/activate', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_ANSWER) req.destroy(new Error('answer too large'));
          else chunks.push(c);
        });
        res.on('end', () => {
          let parsed: unknown;
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          } catch {
            parsed = undefined;
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(text);
  });
}

/**
 * The host's answer, checked against its schema as the authority's are: an error body keeps the
 * host's own code; anything else of the wrong shape is HOST_UNREACHABLE with the status.
 */
export function readHostAnswer(reply: { status: number; body: unknown }, label: string): HostAnswerBundle {
  return parseWith(hostAnswerSchema, reply.body, () => fromErrorBody(reply.body) ?? new VolactError('HOST_UNREACHABLE', { target: label, reason: `unexpected answer (HTTP ${reply.status})` }));
}
