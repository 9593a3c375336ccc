/**
 * Every answer the e2e tests receive matches the API description it is described in. The
 * harness turns on the JSON client's trace (VOLACT_TRACE_EXCHANGES, inherited by every volact
 * process it starts, and by this one), notes which port serves which role (startService), and
 * after each test file checks each recorded answer from an authority or a host's client port
 * against the operation's schema at its status (ajv, JSON Schema 2020-12 as OpenAPI 3.1 has it).
 * Answers from other servers (admin sockets, hypervisor agents, directories) are not described
 * and are skipped.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { authorityApiDocument } from '@volact/authority';
import { clientApiDocument } from '@volact/host';

export type Role = 'authority' | 'host';
export type Recorded = {
  method: string;
  origin: string;
  path: string;
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
};

const documents: Record<Role, Record<string, unknown>> = {
  authority: authorityApiDocument(),
  host: clientApiDocument,
};

let ajv: InstanceType<typeof Ajv2020> | undefined;
function validator(): InstanceType<typeof Ajv2020> {
  if (!ajv) {
    ajv = new Ajv2020({ strict: false, allErrors: false, validateFormats: false });
    for (const [role, doc] of Object.entries(documents)) ajv.addSchema(doc, role);
  }
  return ajv;
}

const pointer = (...parts: string[]) => parts.map((p) => '/' + p.replace(/~/g, '~0').replace(/\//g, '~1')).join('');

/** What is wrong with one recorded answer against `role`'s description, or undefined. */
export function answerProblem(role: Role, x: Recorded): string | undefined {
  const path = x.path.split('?')[0]!;
  const method = x.method.toLowerCase();
  const what = `${role} ${x.method} ${x.path} ${x.status}`;
  const op = (documents[role].paths as Record<string, Record<string, any>>)[path]?.[method];
  // a path that is no endpoint is 404 NOT_FOUND, which belongs to no operation
  if (!op) return x.status === 404 ? undefined : `${what}: no such operation is described (add it to the route table)`;
  const response = op.responses[String(x.status)];
  if (!response) return `${what}: the status is not described (answer ${JSON.stringify(x.body)?.slice(0, 300)})`;
  if (response.headers?.['Retry-After']?.$ref?.endsWith('/RetryAfter') && x.headers['retry-after'] === undefined)
    return `${what}: no Retry-After header`;
  const ref = `${role}#${pointer('paths', path, method, 'responses', String(x.status), 'content', 'application/json', 'schema')}`;
  const validate = validator().getSchema(ref);
  if (!validate) return `${what}: the description has no schema for this answer (give the route a response schema)`;
  if (validate(x.body)) return undefined;
  return `${what}: ${validator().errorsText(validate.errors)} (answer ${JSON.stringify(x.body)?.slice(0, 300)})`;
}

/** The recorded exchanges of `file`. */
export function readTrace(file: string): Recorded[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Recorded);
}

const roles = new Map<number, Role>();

/** startService: the port a volact server listens on, and its role when it has a description. */
export function noteService(args: string[], port: number): void {
  const role = args[1] === 'serve' && (args[0] === 'authority' || args[0] === 'host') ? args[0] : undefined;
  if (role) roles.set(port, role);
}

/** The role whose description covers an origin (host:port); the client port of a host only. */
export const roleOf = (origin: string): Role | undefined => roles.get(Number(origin.split(':').pop()));

/** Every problem of the answers in `file` from origins `role` knows. */
export function traceProblems(file: string, role: (origin: string) => Role | undefined = roleOf): string[] {
  const problems: string[] = [];
  for (const x of readTrace(file)) {
    const r = role(x.origin);
    const problem = r && answerProblem(r, x);
    if (problem) problems.push(problem);
  }
  return [...new Set(problems)];
}

/**
 * Turns the trace on for this test file (unless the environment already names a file) and
 * checks it when the file's tests are done.
 */
function traceThisFile(): void {
  if (process.env.VOLACT_TRACE_EXCHANGES) return;
  const dir = mkdtempSync(join(tmpdir(), 'volact-exchanges-'));
  const file = join(dir, 'exchanges.jsonl');
  process.env.VOLACT_TRACE_EXCHANGES = file;
  after(() => {
    try {
      assert.deepEqual(traceProblems(file), [], 'answers that do not match the OpenAPI descriptions');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

traceThisFile();
