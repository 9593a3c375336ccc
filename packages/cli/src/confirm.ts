import { fileLimits, readUserFile, writeUserFile } from './files.js';
import {
  VolactError,
  bulkConfirmationAnswerSchema,
  bulkConfirmationRequestSchema,
  fromErrorBody,
  isCodeGroup,
  parseWith,
  type Infer,
} from '@volact/protocol';
import type { Confirmed, OpenAuthority } from '@volact/authority';
import { exchangeJson, type JsonReply } from '@volact/io';

export type ConfirmResult = { ok: true; value: Confirmed } | { ok: false; error: VolactError };

/** Turns installation IDs into confirmation IDs: against the local store, or a remote admin API. */
export type Confirmer = { confirm(ids: string[]): Promise<ConfirmResult[]>; close(): Promise<void>; batch: number };

export function localConfirmer(open: () => Promise<OpenAuthority>, actor: string): Confirmer {
  let opened: Promise<OpenAuthority> | undefined;
  return {
    batch: 20,
    async confirm(ids) {
      opened ??= open();
      const { authority } = await opened;
      const out: ConfirmResult[] = [];
      for (const id of ids) {
        try {
          out.push({ ok: true, value: await authority.confirmOffline(id, actor) });
        } catch (err) {
          if (!(err instanceof VolactError) || err.exit === 1) throw err;
          out.push({ ok: false, error: err });
        }
      }
      return out;
    },
    async close() {
      if (opened) await (await opened).close();
    },
  };
}

/**
 * A remote authority's admin API for an operator away from its machine: its base URL (HTTPS, or
 * HTTP on loopback only, since the token would travel in clear) and the token read from its file.
 */
export function remoteAdmin(url: string, tokenFile: string | undefined, scope: string): { base: URL; token: string } {
  if (!tokenFile)
    throw new VolactError('USAGE', { detail: `--url needs --token-file FILE (a token with the ${scope} scope)` });
  const token = readUserFile(tokenFile, 'token').trim();
  let base: URL;
  try {
    base = new URL(url.endsWith('/') ? url : `${url}/`);
  } catch {
    throw new VolactError('USAGE', { detail: `${url} is not a URL` });
  }
  const loopback = base.hostname === 'localhost' || base.hostname === '[::1]' || /^127\./.test(base.hostname);
  if (base.protocol !== 'https:' && !(base.protocol === 'http:' && loopback))
    throw new VolactError('INSECURE_URL', { address: base.host });
  return { base, token };
}

/** Proxy activation against a remote authority with a token (scope issue): not throttled as anonymous traffic. */
export function remoteConfirmer(url: string, tokenFile: string | undefined): Confirmer {
  const { base, token } = remoteAdmin(url, tokenFile, 'issue');
  // relative, so a path prefix of a proxy (https://example.com/activation/) is kept
  const endpoint = new URL('v1/admin/offline-confirmations', base);
  return {
    batch: 100,
    async confirm(ids) {
      const body: Infer<typeof bulkConfirmationRequestSchema> = { v: 1, installationIds: ids };
      let reply: JsonReply;
      try {
        // 100 results of well under 1 KiB each; 120 s, as the authority confirms them one by one
        reply = await exchangeJson(endpoint, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${token}` },
          limit: 8 * 1024 * 1024,
          timeoutMs: 120_000,
        });
      } catch (err) {
        throw new VolactError('AUTHORITY_UNREACHABLE', {
          target: url,
          reason: err instanceof Error ? err.message : String(err),
        });
      }
      const unexpected = (reason: string) => new VolactError('AUTHORITY_UNREACHABLE', { target: url, reason });
      if (reply.status < 200 || reply.status > 299)
        throw fromErrorBody(reply.body) ?? unexpected(`unexpected answer (HTTP ${reply.status})`);
      // the schema the authority's API description has for this answer
      const answer = parseWith(bulkConfirmationAnswerSchema, reply.body, (p) =>
        unexpected(`unexpected answer: ${p.field} ${p.problem}`),
      );
      return answer.results.map((r) => {
        const x = r as { ok?: boolean; error?: unknown } & Confirmed;
        if (x.ok) return { ok: true as const, value: x };
        return {
          ok: false as const,
          error: fromErrorBody(x.error) ?? new VolactError('INTERNAL', { requestId: 'remote' }),
        };
      });
    },
    async close() {},
  };
}

type Line = { label: string; iid: string; line: number };

function readIds(path: string): Line[] {
  const text = readUserFile(path, 'installation IDs', fileLimits.idList);
  if (text.length > 10_000_000) throw new VolactError('USAGE', { detail: `${path} is larger than 10 MB; split it` });
  const lines: Line[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) return;
    const parts = line.split(/\s+/);
    // "label IID" or a bare IID (which may have been typed with spaces between groups): a first
    // token that is a correct first group of a code is code, anything else a label
    const labelled = parts.length >= 2 && !isCodeGroup(parts[0]!.split('-')[0]!, 0);
    lines.push({
      label: labelled ? parts[0]! : `line-${i + 1}`,
      iid: (labelled ? parts.slice(1) : parts).join(''),
      line: i + 1,
    });
  });
  if (lines.length === 0) throw new VolactError('USAGE', { detail: `${path} holds no installation IDs` });
  return lines;
}

/** A progress bar on stderr: redrawn in place on a terminal, a line per tenth otherwise. */
function progress(total: number): (done: number) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  return (done) => {
    const width = 30;
    const filled = Math.round((done / total) * width);
    const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
    if (tty) process.stderr.write(`\r${bar}${done === total ? '\n' : ''}`);
    else {
      const tenth = Math.floor((done / total) * 10);
      if (tenth !== lastTenth) process.stderr.write(`${bar}\n`);
      lastTenth = tenth;
    }
  };
}

/**
 * Proxy activation in bulk: a file of installation IDs becomes a file of confirmations, one
 * line each ("label IID CID", or "label IID ERROR CODE message"). Asking again for the same
 * IDs uses no more activations, so a failed run can simply be repeated.
 */
export async function confirmFile(
  inPath: string,
  outPath: string,
  confirmer: Confirmer,
): Promise<{ total: number; confirmed: number; failed: number }> {
  const lines = readIds(inPath);
  const show = progress(lines.length);
  const out: string[] = ['# volact confirmations: label installation-id confirmation-id (or ERROR code message)'];
  let confirmed = 0;
  show(0);
  try {
    for (let i = 0; i < lines.length; i += confirmer.batch) {
      const chunk = lines.slice(i, i + confirmer.batch);
      const results = await confirmer.confirm(chunk.map((l) => l.iid));
      results.forEach((r, j) => {
        const l = chunk[j]!;
        if (r.ok) {
          confirmed++;
          out.push(`${l.label} ${r.value.installationId} ${r.value.confirmationId}`);
        } else out.push(`${l.label} ${l.iid} ERROR ${r.error.code} ${r.error.message.replace(/\s+/g, ' ')}`);
      });
      show(Math.min(i + chunk.length, lines.length));
    }
  } finally {
    await confirmer.close();
  }
  writeUserFile(outPath, 'confirmations', out.join('\n') + '\n');
  return { total: lines.length, confirmed, failed: lines.length - confirmed };
}
