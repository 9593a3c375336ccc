/**
 * A small strict schema: the same definitions validate requests, read signed documents and
 * describe the wire format in docs. Unknown fields are refused, so a typo is never ignored.
 */
export type Problem = { field: string; problem: string };

export type Schema<T> = {
  /** Returns the problem, or undefined when `value` is a T. */
  check(value: unknown, path: string): Problem | undefined;
  describe(): unknown;
  readonly optional?: boolean;
  readonly _type?: T;
};

export type Infer<S> = S extends Schema<infer T> ? T : never;

const fail = (field: string, problem: string): Problem => ({ field: field || '(body)', problem });

/** A UTF-16 surrogate without its partner: valid in JSON text (a \ud800 escape), but no character at all. */
const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function str(opts: { min?: number; max: number; pattern?: RegExp }): Schema<string> {
  return {
    check(v, p) {
      if (typeof v !== 'string') return fail(p, 'must be a string');
      if (loneSurrogate.test(v)) return fail(p, 'must be well-formed Unicode (it has a lone surrogate)');
      if (v.length < (opts.min ?? 0)) return fail(p, `must have at least ${opts.min ?? 0} characters`);
      if (v.length > opts.max) return fail(p, `must have at most ${opts.max} characters`);
      if (opts.pattern && !opts.pattern.test(v)) return fail(p, `must match ${opts.pattern.source}`);
      return undefined;
    },
    describe: () => ({
      type: 'string',
      minLength: opts.min ?? 0,
      maxLength: opts.max,
      ...(opts.pattern ? { pattern: opts.pattern.source } : {}),
    }),
  };
}

export function int(opts: { min: number; max: number }): Schema<number> {
  return {
    check(v, p) {
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) return fail(p, 'must be an integer');
      if (v < opts.min || v > opts.max) return fail(p, `must be between ${opts.min} and ${opts.max}`);
      return undefined;
    },
    describe: () => ({ type: 'integer', minimum: opts.min, maximum: opts.max }),
  };
}

export const bool: Schema<boolean> = {
  check: (v, p) => (typeof v === 'boolean' ? undefined : fail(p, 'must be true or false')),
  describe: () => ({ type: 'boolean' }),
};

export function literal<const L extends string | number>(...values: L[]): Schema<L> {
  return {
    check: (v, p) => (values.includes(v as L) ? undefined : fail(p, `must be one of ${values.join(', ')}`)),
    describe: () => ({ enum: values }),
  };
}

export function nullable<T>(s: Schema<T>): Schema<T | null> {
  return {
    check: (v, p) => (v === null ? undefined : s.check(v, p)),
    describe: () => ({ anyOf: [s.describe(), { type: 'null' }] }),
  };
}

export function optional<T>(s: Schema<T>): Schema<T | undefined> {
  return { ...s, optional: true, check: (v, p) => (v === undefined ? undefined : s.check(v, p)) };
}

export function array<T>(item: Schema<T>, opts: { max: number; min?: number }): Schema<T[]> {
  return {
    check(v, p) {
      if (!Array.isArray(v)) return fail(p, 'must be an array');
      if (v.length > opts.max) return fail(p, `must have at most ${opts.max} items`);
      if (v.length < (opts.min ?? 0)) return fail(p, `must have at least ${opts.min ?? 0} items`);
      for (let i = 0; i < v.length; i++) {
        const problem = item.check(v[i], `${p}[${i}]`);
        if (problem) return problem;
      }
      return undefined;
    },
    describe: () => ({ type: 'array', items: item.describe(), maxItems: opts.max }),
  };
}

type Shape = Record<string, Schema<unknown>>;
type OptionalKeys<S extends Shape> = {
  [K in keyof S]: S[K] extends { optional: true } ? K : undefined extends Infer<S[K]> ? K : never;
}[keyof S];
export type ObjOf<S extends Shape> = { [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  [K in OptionalKeys<S>]?: Infer<S[K]>;
};

export function obj<S extends Shape>(shape: S): Schema<ObjOf<S>> {
  return {
    check(v, p) {
      if (!v || typeof v !== 'object' || Array.isArray(v)) return fail(p, 'must be an object');
      for (const k of Object.keys(v)) {
        if (!Object.hasOwn(shape, k)) return fail(p ? `${p}.${k}` : k, 'is not a known field');
      }
      for (const [k, s] of Object.entries(shape)) {
        const value = (v as Record<string, unknown>)[k];
        const path = p ? `${p}.${k}` : k;
        if (value === undefined && !s.optional) return fail(path, 'is required');
        const problem = s.check(value, path);
        if (problem) return problem;
      }
      return undefined;
    },
    describe: () => ({
      type: 'object',
      additionalProperties: false,
      required: Object.entries(shape)
        .filter(([, s]) => !s.optional)
        .map(([k]) => k),
      properties: Object.fromEntries(Object.entries(shape).map(([k, s]) => [k, s.describe()])),
    }),
  };
}

/** Checks and narrows; `onProblem` turns the problem into the caller's error. */
export function parseWith<T>(schema: Schema<T>, value: unknown, onProblem: (p: Problem) => Error): T {
  const problem = schema.check(value, '');
  if (problem) throw onProblem(problem);
  return value as T;
}
