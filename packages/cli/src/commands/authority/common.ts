import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { defaultStateDir } from '@volact/io';
import type { Authority } from '@volact/authority';
import { fileLimits, readUserFile } from '../../files.js';
import { fail } from '../../output.js';
import { processClock } from '../../process-clock.js';

/** The authority code (its stores, Kysely, pg, better-sqlite3) loads when a command runs, not when the CLI starts. */
export const authorityPackage = () => import('@volact/authority');

export const defaultDir = () => process.env.VOLACT_AUTHORITY_DIR ?? defaultStateDir('authority');

export function isLoopback(address: string): boolean {
  return address === 'localhost' || address === '::1' || /^127\.\d+\.\d+\.\d+$/.test(address);
}

export function intOption(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^-?\d+$/.test(text) || n < min || n > max)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name, min, max, value: text });
  return n;
}

/** Writes made with the CLI on the authority's machine are audited under the operator's login. */
export function cliActor(): string {
  let user = process.env.SUDO_USER ?? process.env.USER ?? '?';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep the environment's name
  }
  return `cli:${user}`;
}

export function readCatalogFile(path: string): unknown {
  const text = readUserFile(path, 'catalog', fileLimits.catalog);
  try {
    return JSON.parse(text);
  } catch {
    throw new VolactError('CATALOG_INVALID', { detail: `${path} is not JSON` });
  }
}

/** Opens the authority (its directory, and --database when given) for one command and always closes its store. */
export async function withAuthority<T>(
  o: Record<string, unknown>,
  fn: (authority: Authority) => Promise<T>,
): Promise<T> {
  const { openAuthority } = await authorityPackage();
  const { authority, close } = await openAuthority(
    (o.dir as string | undefined) ?? defaultDir(),
    processClock(),
    databaseOption(o),
  );
  try {
    return await fn(authority);
  } finally {
    await close();
  }
}

/** --database or VOLACT_AUTHORITY_DATABASE: a postgres:// URL; default the SQLite file in the directory. */
export function databaseOption(o: Record<string, unknown>): string | undefined {
  return (o.database as string | undefined) ?? process.env.VOLACT_AUTHORITY_DATABASE;
}

export const dirOpt = ['--dir <dir>', 'authority directory (env VOLACT_AUTHORITY_DIR)'] as const;
export const dbOpt = [
  '--database <url>',
  'postgres://… to share one PostgreSQL between nodes (env VOLACT_AUTHORITY_DATABASE); default: SQLite in the directory',
] as const;

/** A subcommand that opens the store: --dir, --database and --json, declared once. */
export const storeCommand = (parent: Command, name: string) =>
  parent
    .command(name)
    .option(...dirOpt)
    .option(...dbOpt)
    .option('--json', 'JSON output');

/** An action with the options (and the first argument as _arg); a failure is printed and exits with its code. */
export const run =
  (fn: (o: Record<string, string | boolean | undefined>) => void | Promise<void>) =>
  async (...args: unknown[]) => {
    const opts = (args[args.length - 1] as Command).opts();
    try {
      await fn({ ...opts, _arg: args[0] as string | undefined });
    } catch (err) {
      fail(err, Boolean(opts.json));
    }
  };
