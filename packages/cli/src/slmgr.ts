import { VolactError } from '@volact/protocol';
import { emit } from './output.js';
import { clientOptions } from './slmgr/client.js';
import { hostOptions } from './slmgr/host.js';
import { hypervisorOptions } from './slmgr/hypervisor.js';
import type { SlmgrCall, SlmgrOption } from './slmgr/option.js';

export { parseKms } from './slmgr/kms-address.js';

export type { Arity, SlmgrCall, SlmgrOption } from './slmgr/option.js';

/** What slmgr acts on: this machine, an activation host (--host DIR) or a hypervisor agent (--hypervisor DIR). */
export type SlmgrTarget = 'client' | 'host' | 'hypervisor';

const tables: Record<SlmgrTarget, Record<string, SlmgrOption<never, unknown>>> = {
  client: clientOptions,
  host: hostOptions,
  hypervisor: hypervisorOptions,
};
const where: Record<SlmgrTarget, string> = {
  client: 'on a client (drop --host and --hypervisor)',
  host: 'on an activation host (add --host DIR)',
  hypervisor: 'on a hypervisor agent (add --hypervisor DIR)',
};

/** Parses `-opt [value]` (or `/opt`); exactly one operation per call, as with slmgr. */
export function parseSlmgr(args: string[], target: SlmgrTarget): SlmgrCall {
  const known = tables[target];
  // `/dli` as on Windows; `/tmp/catalog.json` (a file for -upd-catalog) is a value, not an option
  const ops = args.filter((a) => /^-[a-z]/i.test(a) || /^\/[a-z][a-z-]*$/i.test(a));
  if (ops.length !== 1 || !args[0] || args[0] !== ops[0]) {
    throw new VolactError('USAGE', {
      detail: `give exactly one slmgr option, like -dli; known ${where[target].replace(/ \(.*/, '')}: ${Object.keys(
        known,
      )
        .map((k) => '-' + k)
        .join(' ')}`,
    });
  }
  const option = ops[0]!.slice(1).toLowerCase();
  const entry = Object.hasOwn(known, option) ? known[option] : undefined;
  if (entry === undefined) {
    const other = (Object.keys(tables) as SlmgrTarget[]).find((t) => t !== target && Object.hasOwn(tables[t], option));
    throw new VolactError('USAGE', {
      detail: other
        ? `-${option} works ${where[other]}`
        : `unknown option -${option}; known: ${Object.keys(known)
            .map((k) => '-' + k)
            .join(' ')}`,
    });
  }
  const { arity, usage } = entry;
  if (Array.isArray(arity)) {
    const [min, max] = arity as readonly [number, number];
    if (args.length - 1 < min || args.length - 1 > max)
      throw new VolactError('USAGE', { detail: `-${option} takes ${min} to ${max} values: ${usage ?? ''}` });
    return { option, value: args[1], values: args.slice(1) };
  }
  if (arity === -1) {
    if (args.length < 2) throw new VolactError('USAGE', { detail: `-${option} takes the confirmation ID` });
    return { option, value: args.slice(1).join(''), values: args.slice(1) };
  }
  if (args.length - 1 !== arity)
    throw new VolactError('USAGE', {
      detail: arity ? `-${option} takes one value${usage ? `: ${usage}` : ''}` : `-${option} takes no value`,
    });
  return { option, value: args[1], values: args.slice(1) };
}

/** Runs one parsed option from its table and prints its result. Returns the exit code. */
export async function runSlmgr<Ctx>(
  table: Record<string, SlmgrOption<Ctx, unknown>>,
  ctx: Ctx,
  call: SlmgrCall,
  json: boolean,
): Promise<number> {
  const op = Object.hasOwn(table, call.option) ? table[call.option] : undefined;
  if (!op) throw new VolactError('USAGE', { detail: `-${call.option} is not handled` });
  const r = await op.run(ctx, call);
  emit(json, op.json ? op.json(r, call) : r, () => op.render(r, call));
  return op.exit?.(r) ?? 0;
}
