#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { VolactError } from '@volact/protocol';
import { registerAuthority } from './commands/authority.js';
import { registerClient } from './commands/client.js';
import { registerDemo } from './commands/demo.js';
import { registerHost } from './commands/host.js';
import { fail } from './output.js';

const program = new Command('volact')
  .description('Volume activation: the publisher authority, activation hosts and client machines')
  .version('0.1.0')
  .showSuggestionAfterError()
  .exitOverride();

registerAuthority(program);
registerHost(program);
registerClient(program);
registerDemo(program);

const json = process.argv.includes('--json');
try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    if (err.exitCode === 0) process.exit(0);
    fail(new VolactError('USAGE', { detail: err.message.replace(/^error: /, '') }), json);
  }
  fail(err, json);
}
