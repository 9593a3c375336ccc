import type { Command } from 'commander';
import { registerKeys } from './keys.js';
import { registerOffline } from './offline.js';
import { registerRequests } from './requests.js';
import { registerServe } from './serve.js';
import { registerRotateIssuer, registerSetup } from './setup.js';
import { registerTokens } from './tokens.js';
import { registerUsage } from './usage.js';

/**
 * `volact authority …`: the publisher's side. Only the declarations load here; the authority
 * code loads when a command runs.
 */
export function registerAuthority(program: Command): void {
  const cmd = program
    .command('authority')
    .description("the publisher's authority: keys, catalog, host keys, the activation service");
  registerSetup(cmd);
  registerKeys(cmd);
  registerRequests(cmd);
  registerTokens(cmd);
  registerOffline(cmd);
  registerUsage(cmd);
  registerRotateIssuer(cmd);
  registerServe(cmd);
}
