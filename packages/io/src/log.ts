import { pino, stdTimeFunctions, type DestinationStream } from 'pino';
import { LineWriter } from './line-writer.js';
import type { RequestObserver } from './request-observer.js';

export type LogRole = 'authority' | 'host' | 'hypervisor';

/**
 * What servers log through: pino's calling convention (fields first, then an English message),
 * so a pino logger is one, and a test can pass `memoryLog()` and read what was logged.
 */
export interface Log {
  info(fields: object, msg?: string): void;
  warn(fields: object, msg?: string): void;
  error(fields: object, msg?: string): void;
}

/**
 * Field names that would carry a secret, censored should one ever be passed by mistake: the
 * safety net, not the rule. The rule is that keys, tokens, TSIG secrets and request bodies are
 * never handed to the log at all (test/logs.e2e.test.ts greps a whole scenario's logs for them).
 */
export const redactedFields = [
  'key',
  'productKey',
  'setupKey',
  'hostKey',
  'mak',
  'token',
  'secret',
  'password',
  'privateKey',
  'authorization',
  'body',
];
// top-level names only: log lines are flat, and wildcard paths (`*.key`) tripled the cost of a
// line (5 µs to 15 µs of CPU, bench/access-log.ts)
const redactPaths = [...redactedFields, 'headers.authorization'];

export type RoleLogger = Log & {
  /**
   * Writes one whole JSON line the caller made, after the same level, time and base fields pino
   * writes (`{"level":"info","time":"…",` + `base` + the caller's fields + `}`): the access log's
   * own formatting, a fifth of pino's cost on the host's hot path.
   */
  infoLine(fields: string): void;
  /** Writes out what is buffered, synchronously (a crash; pino also does it on 'exit'). A write in flight may be lost. */
  flushSync(): void;
  /** Resolves once every line so far is written, the one in flight too (before a clean exit; 2 s at most). */
  drain(): Promise<void>;
};

/**
 * A role's logger: JSON lines on stderr (stdout stays the CLI's output) with ISO time, the level
 * as a word and the role. Writes are asynchronous and batched while a write is in flight (the
 * access log is on the host's hot path: line-writer.ts); what is held back is written
 * synchronously when the process exits, also after an uncaught exception.
 */
export function roleLogger(role: LogRole | undefined, dest: number | string | DestinationStream = 2): RoleLogger {
  const stream = typeof dest === 'object' ? dest : new LineWriter(dest);
  const logger = pino(
    {
      base: role === undefined ? { pid: process.pid } : { role, pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: redactPaths, censor: '[redacted]' },
    },
    stream,
  );
  const base = JSON.stringify(role === undefined ? { pid: process.pid } : { role, pid: process.pid }).slice(1, -1);
  return Object.assign(logger, {
    infoLine: (fields: string) =>
      stream.write(`{"level":"info","time":"${new Date().toISOString()}",${base},${fields}}\n`),
    drain: () => (stream instanceof LineWriter ? stream.drain() : Promise.resolve()),
    flushSync: () => {
      if (stream instanceof LineWriter) stream.flushSync();
    },
  }) as unknown as RoleLogger;
}

const defaults = new Map<LogRole | undefined, RoleLogger>();

/** One stderr logger per role in this process, for code started without one (tests, library use). */
export function defaultLog(role?: LogRole): RoleLogger {
  let log = defaults.get(role);
  if (!log) defaults.set(role, (log = roleLogger(role)));
  return log;
}

/** A Log that drops everything (the demo, which prints its own guide). */
export const silentLog: Log = { info: () => {}, warn: () => {}, error: () => {} };

export type LogEntry = { level: 'info' | 'warn' | 'error'; msg?: string } & Record<string, unknown>;

/** A Log that keeps its entries in memory, for tests; with `lines`, also as JSON lines there. */
export function memoryLog(lines?: string[]): Log & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at = (level: LogEntry['level']) => (fields: object, msg?: string) => {
    const entry: LogEntry = { level, ...(msg === undefined ? {} : { msg }), ...fields };
    entries.push(entry);
    lines?.push(JSON.stringify(entry));
  };
  return { entries, info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * The access log: one `info` line per answered request, from the request observer. Milliseconds
 * with three decimals; the route is the route table's key, never the raw path (no query strings,
 * so nothing a client put in a URL reaches the log). On a role logger the line is formatted here:
 * every field is a number, a route key, an ID of safe characters, an HTTP method (a token: no
 * quote or backslash) or an address, and anything else goes through JSON.stringify.
 */
export function accessLog(log: Log): RequestObserver {
  const ms = (seconds: number) => Math.round(seconds * 1e6) / 1e3;
  if (!('infoLine' in log)) {
    return (r) =>
      log.info(
        { requestId: r.requestId, method: r.method, route: r.route, status: r.status, ms: ms(r.seconds), peer: r.peer },
        'request',
      );
  }
  const line = (log as RoleLogger).infoLine;
  const routes = new Map<string, string>();
  const quoted = (text: string) => (/^[A-Za-z0-9.:_%-]*$/.test(text) ? `"${text}"` : JSON.stringify(text));
  return (r) => {
    let route = routes.get(r.route);
    if (route === undefined) routes.set(r.route, (route = JSON.stringify(r.route)));
    line(
      `"requestId":${quoted(r.requestId)},"method":${quoted(r.method)},"route":${route},"status":${r.status},"ms":${ms(r.seconds)},"peer":${quoted(r.peer)},"msg":"request"`,
    );
  };
}
