/** Values an option takes: a count, [min, max], or -1 for the rest joined (a code typed with spaces). */
export type Arity = number | readonly [number, number];

export type SlmgrCall = { option: string; value: string | undefined; values: string[] };

/**
 * One slmgr option: how many values it takes, what it does (`run`, the only part that acts),
 * how its result is shown (`render`; `json` when the JSON is not the result itself) and the
 * exit code a result means (`exit`, default 0).
 */
export type SlmgrOption<Ctx, R> = {
  arity: Arity;
  /** How to type it, shown when the values are wrong. */
  usage?: string;
  run(ctx: Ctx, call: SlmgrCall): R | Promise<R>;
  render(r: R, call: SlmgrCall): string;
  json?(r: R, call: SlmgrCall): unknown;
  exit?(r: R): number;
};

/** Declares an option of a table, typing `run`, `render` and `json` with the same result. */
export const slmgrOption =
  <Ctx>() =>
  <R>(o: SlmgrOption<Ctx, R>): SlmgrOption<Ctx, unknown> =>
    o as SlmgrOption<Ctx, unknown>;
