/**
 * What a failure looks like in the fuzzer's output: the case (seed and number, so it can be
 * generated again), what was sent (the first bytes, escaped, and the length), and what came back.
 */
import type { Case } from './fuzz-cases.js';
import type { Outcome } from './fuzz-send.js';

export type FailureKind = '5xx' | 'hang' | 'unresponsive' | 'no answer' | 'crash' | 'rows' | 'logged error';

export type Failure = {
  kind: FailureKind;
  seed: number;
  case?: number;
  label: string;
  detail: string;
  request?: string;
  replay: string;
};

/** The request's bytes as sent (a reconstruction for node:http cases). */
export function requestOf(c: Case): Buffer {
  if (c.via === 'raw') return Buffer.concat(c.raw.chunks);
  const { method, path, headers, body, chunked } = c.http;
  const lines = Object.entries({ ...headers, ...(body && !chunked ? { 'content-length': String(body.length) } : {}), ...(chunked ? { 'transfer-encoding': 'chunked' } : {}) });
  return Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.1\r\n${lines.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`, 'latin1'), body ?? Buffer.alloc(0)]);
}

/** The first bytes, escaped so that they can be read and copied (latin1: one character per byte). */
export function excerpt(bytes: Buffer, max = 600): string {
  const shown = JSON.stringify(bytes.subarray(0, max).toString('latin1'));
  return bytes.length > max ? `${shown}… (${bytes.length} bytes)` : `${shown} (${bytes.length} bytes)`;
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
