/**
 * What a failure looks like in the fuzzer's output: the case (seed and number, so it can be
 * generated again), what was sent (the first bytes, escaped, and the length), and what came back.
 */
import type { Case } from './fuzz-cases.js';
import type { Outcome } from './fuzz-send.js';

export type FailureKind = '5xx' | 'leak' | 'hang' | 'unresponsive' | 'no answer' | 'crash' | 'rows' | 'logged error';

export type Failure = {
  kind: FailureKind;
  seed: number;
  case?: number;
  label: string;
  detail: string;
  request?: string;
  replay: string;
};

/** The request's bytes as sent (for node:http cases a reconstruction: Node adds Host and Connection itself). */
export function requestOf(c: Case): Buffer {
  if (c.via === 'raw') return Buffer.concat(c.raw.chunks);
  const { method, path, headers, body, chunked } = c.http;
  const lines = Object.entries({
    host: 'localhost',
    connection: 'keep-alive',
    ...headers,
    ...(body && !chunked ? { 'content-length': String(body.length) } : {}),
    ...(chunked ? { 'transfer-encoding': 'chunked' } : {}),
  });
  return Buffer.concat([
    Buffer.from(`${method} ${path} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'),
    body ?? Buffer.alloc(0),
  ]);
}

const ESCAPES: Record<number, string> = { 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x22: '\\"', 0x5c: '\\\\' };

/** The first bytes as a JavaScript string literal: printable ASCII as is, every other byte as \xNN. */
export function excerpt(bytes: Buffer, max = 600): string {
  let shown = '';
  for (const b of bytes.subarray(0, max))
    shown += ESCAPES[b] ?? (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`);
  return `"${shown}"${bytes.length > max ? '…' : ''} (${bytes.length} bytes)`;
}

export const replayCommand = (seed: number, n: number) => `node attack/dist/fuzz.js --seed ${seed} --case ${n}`;

export function caseFailure(kind: FailureKind, seed: number, c: Case, o: Outcome | undefined, detail: string): Failure {
  const answers = o ? o.answers.map((a) => `${a.status} ${a.body.slice(0, 300)}`).join(' | ') : '';
  return {
    kind,
    seed,
    case: c.n,
    label: c.label,
    detail: [detail, answers && `answers: ${answers}`, o?.error && `socket: ${o.error}`].filter(Boolean).join('; '),
    request: excerpt(requestOf(c)),
    replay: replayCommand(seed, c.n),
  };
}

/** Prints one failure as a few lines a person reads. */
export function printFailure(f: Failure): void {
  console.log(`  FAILURE ${f.kind}${f.case !== undefined ? ` at case ${f.case}` : ''} (seed ${f.seed}): ${f.label}`);
  console.log(`    ${f.detail}`);
  if (f.request) console.log(`    request: ${f.request}`);
  console.log(`    replay: ${f.replay}`);
}
