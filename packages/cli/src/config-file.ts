import { existsSync } from 'node:fs';
import { extname } from 'node:path';
import type { Command, Option } from 'commander';
import { parse as parseToml, TomlError } from 'smol-toml';
import { VolactError } from '@volact/protocol';
import { fileLimits, readUserFile } from './files.js';

/**
 * One configuration file per role (`/etc/volact/host.toml`, `authority.toml`, `hypervisor.toml`,
 * or JSON). A service's settings come from, in this order of precedence: its command-line flags,
 * the environment (`VOLACT_HOST_PORT`, …), the file, and what the role stored before (slmgr
 * settings, values given once). The file's keys are the long option names of `serve`
 * (`port = 1688`, `serve-networks = ["10.0.0.0/8"]`, `dns-server = "ns1:53"`).
 */
export type Role = 'host' | 'authority' | 'hypervisor';

/** Options never taken from a file or the environment: one-off actions and where the file itself is. */
const notConfigurable = new Set(['config', 'state', 'dir', 'new-database', 'json', 'help']);

export const configEnv = (role: Role) => `VOLACT_${role.toUpperCase()}_CONFIG`;
export const defaultConfigFile = (role: Role) => `/etc/volact/${role}.toml`;
const envName = (role: Role, long: string) => `VOLACT_${role.toUpperCase()}_${long.toUpperCase().replace(/-/g, '_')}`;
const longName = (opt: Option) => opt.long?.replace(/^--/, '') ?? '';

/** Adds `--config FILE` and an environment variable to every setting of a serve command. */
export function configurable(cmd: Command, role: Role): Command {
  // shown in --help; applySettingsFile reads them (commander would only for options given an env before they were added)
  for (const opt of cmd.options) {
    const name = longName(opt);
    if (!notConfigurable.has(name) && !opt.envVar) opt.envVar = envName(role, name);
  }
  return cmd.option(
    '--config <file>',
    `settings file, TOML or JSON (env ${configEnv(role)}; default ${defaultConfigFile(role)} when it exists)`,
  );
}

type Settings = { file: string | null; values: Map<string, { value: unknown; line: number }> };

const invalid = (file: string, line: number | string, detail: string) =>
  new VolactError('CONFIG_INVALID', { file, line, detail });

/** The line of `key = …` (TOML) or `"key":` (JSON) in the text, for messages; '?' when not found. */
function lineOf(text: string, key: string): number | string {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`^\\s*("${escaped}"|${escaped})\\s*[=:]`);
  const i = text.split('\n').findIndex((l) => re.test(l));
  return i < 0 ? '?' : i + 1;
}

/** Reads and parses the role's settings file: the one named, else the default when it exists. */
export function readSettingsFile(role: Role, named: string | undefined): Settings {
  const file =
    named ?? process.env[configEnv(role)] ?? (existsSync(defaultConfigFile(role)) ? defaultConfigFile(role) : null);
  const values: Settings['values'] = new Map();
  if (file === null) return { file, values };
  const text = readUserFile(file, 'settings', fileLimits.small);
  let doc: unknown;
  if (extname(file).toLowerCase() === '.json') {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      const at = /position (\d+)/.exec((err as Error).message);
      const line = at ? text.slice(0, Number(at[1])).split('\n').length : '?';
      throw invalid(file, line, `not JSON (${(err as Error).message})`);
    }
  } else {
    try {
      doc = parseToml(text);
    } catch (err) {
      if (err instanceof TomlError) throw invalid(file, err.line, err.message.split('\n')[0]!);
      throw err;
    }
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc))
    throw invalid(file, 1, 'the file must hold one table (TOML) or one object (JSON) of settings');
  for (const [key, value] of Object.entries(doc)) values.set(key, { value, line: lineOf(text, key) as number });
  return { file, values };
}

/** A file value as the option takes it: a repeatable option each element, a list option joined by commas. */
function optionValue(opt: Option, key: string, value: unknown, fail: (detail: string) => VolactError): unknown {
  const scalar = (v: unknown) => {
    if (typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v))) return String(v);
    throw fail(`${key} must be a string or a number`);
  };
  if (!opt.required && !opt.optional) {
    if (typeof value !== 'boolean') throw fail(`${key} is on or off: give true or false`);
    return value;
  }
  if (!Array.isArray(value)) return opt.parseArg ? opt.parseArg(scalar(value), opt.defaultValue) : scalar(value);
  // a repeatable option (--listen A --listen B) collects; others take one comma-separated value
  if (opt.parseArg) return value.reduce((acc: unknown, v) => opt.parseArg!(scalar(v), acc), opt.defaultValue);
  return value.map(scalar).join(',');
}

/**
 * Applies the settings file under the flags and the environment: each key must be a setting of
 * `cmd`, with a value of the right type; any problem refuses the start with the file's line, and
 * nothing is stored. Returns the file used (or null) and each setting's source.
 */
export function applySettingsFile(cmd: Command, role: Role): { file: string | null; sources: Map<string, string> } {
  const byName = new Map(cmd.options.map((o) => [longName(o), o]));
  for (const [name, opt] of byName) {
    const text = opt.envVar && !notConfigurable.has(name) ? process.env[opt.envVar] : undefined;
    if (text === undefined || cmd.getOptionValueSource(opt.attributeName()) === 'cli') continue;
    const fail = (detail: string) => new VolactError('USAGE', { detail: `${opt.envVar}: ${detail}` });
    const value = opt.required || opt.optional ? text : text === '1' || text === 'true';
    cmd.setOptionValueWithSource(opt.attributeName(), optionValue(opt, opt.envVar!, value, fail), 'env');
  }
  const { file, values } = readSettingsFile(role, cmd.opts().config as string | undefined);
  for (const [key, { value, line }] of values) {
    const fail = (detail: string) => invalid(file!, line, detail);
    const opt = byName.get(key);
    if (!opt || notConfigurable.has(key))
      throw fail(
        `${key} is not a setting of volact ${role} serve; the settings are ${[...byName.keys()].filter((k) => !notConfigurable.has(k)).join(', ')}`,
      );
    const attr = opt.attributeName();
    const source = cmd.getOptionValueSource(attr);
    const converted = optionValue(opt, key, value, fail);
    if (source !== 'cli' && source !== 'env') cmd.setOptionValueWithSource(attr, converted, 'config');
  }
  const sources = new Map<string, string>();
  for (const opt of cmd.options) {
    const source = cmd.getOptionValueSource(opt.attributeName());
    if (source && source !== 'default') sources.set(longName(opt), source === 'config' ? 'file' : source);
  }
  return { file, sources };
}
