#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { VolactError } from '@volact/protocol';
import { chooseLang, t } from './lang.js';
import { fail } from './output.js';
import { catchHangup } from './process-signals.js';

// --lang is global: taken out here, so that every command and slmgr option sees the rest alone
let argv = process.argv;
try {
  argv = chooseLang(process.argv, process.env);
} catch (err) {
  fail(err, process.argv.includes('--json'));
}

// a reload (SIGHUP) that comes while a service starts must not end it (process-signals.ts)
if (argv[3] === 'serve') catchHangup();

// The version of the installed package, not of a constant that a release could forget: package.json
// sits one level above dist/ both in the repository and in an install (a read of 1 KB, well under 1 ms).
const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

const program = new Command('volact')
  .description('Volume activation: the publisher authority, activation hosts, hypervisor agents and client machines')
  .version(version)
  .option('--lang <lang>', t('cli.langOption'))
  .showSuggestionAfterError()
  .exitOverride();

/**
 * The command groups, in the order help lists them. Each loads its declarations when named
 * (`volact slmgr -dli` reads the slmgr module only); help and unknown commands load them all.
 */
const groups: [string, () => Promise<(program: Command) => void>][] = [
  ['authority', async () => (await import('./commands/authority/index.js')).registerAuthority],
  ['host', async () => (await import('./commands/host/index.js')).registerHost],
  ['hypervisor', async () => (await import('./commands/hypervisor/index.js')).registerHypervisor],
  ['slmgr', async () => (await import('./commands/client/slmgr.js')).registerSlmgr],
  ['client', async () => (await import('./commands/client/index.js')).registerClient],
  ['agent', async () => (await import('./commands/client/agent.js')).registerAgent],
  ['demo', async () => (await import('./commands/demo.js')).registerDemo],
];
const named = groups.find(([name]) => name === argv[2]);
for (const register of await Promise.all((named ? [named] : groups).map(([, load]) => load()))) register(program);

const json = argv.includes('--json');
try {
  await program.parseAsync(argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0);
    fail(new VolactError('USAGE', { detail: err.message.replace(/^error: /, '') }), json);
  }
  fail(err, json);
}
