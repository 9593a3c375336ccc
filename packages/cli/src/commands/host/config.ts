import { Command } from 'commander';
import { applySettingsFile } from '../../config-file.js';
import { emit, fail, table } from '../../output.js';
import { defaultHostDir } from './inputs.js';
import { hostServeOptions } from './serve.js';

/** Where each serve option is kept once the host stored it, as a path into its stored settings. */
const storedAs: Record<string, string[]> = {
  port: ['port'],
  listen: ['listenAddress'],
  name: ['hostName'],
  authority: ['authorityUrl'],
  'serve-networks': ['servedNetworks'],
  'dns-server': ['dns', 'server'],
  'dns-domain': ['dns', 'domain'],
  'dns-name': ['dns', 'target'],
  'dns-address': ['dns', 'address'],
  'dns-priority': ['dns', 'priority'],
  'dns-weight': ['dns', 'weight'],
  'dns-extra': ['dns', 'extraDomains'],
};
/** Settings only slmgr changes (-sai, -sri), stored in host.db. */
const slmgrOnly: Record<string, string[]> = {
  'retry-minutes (-sai)': ['retryMinutes'],
  'renewal-minutes (-sri)': ['renewalMinutes'],
};

type Row = { setting: string; value: unknown; source: string };

const at = (o: unknown, path: string[]) => path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], o);

/** The settings the host stored, and the effective ones (defaults for the rest). */
async function storedSettings(dir: string): Promise<{ stored: Record<string, unknown>; effective: unknown }> {
  const { readStoredSettings, settingsFrom } = await import('@volact/host');
  const stored = readStoredSettings(dir);
  return { stored, effective: settingsFrom(stored) };
}

/**
 * The settings a `host serve` started now would use, with where each comes from: the
 * environment, the settings file, what the host stored (given once, or set by slmgr), or the
 * default. Flags are not known here: they win over all of these at the start they are given to.
 */
export async function effectiveHostSettings(o: { state?: string; config?: string }): Promise<{
  file: string | null;
  settings: Row[];
}> {
  const probe = hostServeOptions(new Command('serve')).exitOverride();
  probe.parse(o.config === undefined ? [] : ['--config', o.config], { from: 'user' });
  const { file, sources } = applySettingsFile(probe, 'host');
  const values = probe.opts<Record<string, unknown>>();
  const { stored, effective } = await storedSettings(o.state ?? defaultHostDir());
  const rows: Row[] = [];
  for (const opt of probe.options) {
    const name = opt.long!.replace(/^--/, '');
    if (name === 'config' || name === 'state' || name === 'new-database') continue;
    const source = sources.get(name);
    const path = storedAs[name];
    if (source) rows.push({ setting: name, value: values[opt.attributeName()], source });
    else if (path && at(stored, path) !== undefined)
      rows.push({ setting: name, value: at(stored, path), source: 'stored' });
    else
      rows.push({ setting: name, value: path ? at(effective, path) : (opt.defaultValue ?? null), source: 'default' });
  }
  for (const [name, path] of Object.entries(slmgrOnly))
    rows.push({
      setting: name,
      value: at(effective, path),
      source: at(stored, path) === undefined ? 'default' : 'stored',
    });
  return { file, settings: rows };
}

/** `volact host config --show`: the effective settings, each with its source. */
export function registerConfig(cmd: Command): void {
  cmd
    .command('config')
    .description('show the settings host serve would use now, and where each comes from (env, file, stored, default)')
    .option('--show', 'show the effective settings (the default)')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--config <file>', 'settings file (env VOLACT_HOST_CONFIG; default /etc/volact/host.toml when it exists)')
    .option('--json', 'JSON output')
    .action(async (o: { state?: string; config?: string; json?: boolean }) => {
      try {
        const r = await effectiveHostSettings(o);
        emit(Boolean(o.json), r, () =>
          [
            `Settings file: ${r.file ?? 'none'}`,
            '',
            table(
              r.settings.map((s) => ({
                ...s,
                value:
                  s.value === null || s.value === undefined
                    ? '-'
                    : typeof s.value === 'string'
                      ? s.value
                      : JSON.stringify(s.value),
              })),
              ['setting', 'value', 'source'],
            ),
          ].join('\n'),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
