import type { Command } from 'commander';
import { registerDirectory } from './directory.js';
import { registerEvents } from './events.js';
import { registerRequests } from './requests.js';
import { registerSettings } from './settings.js';
import { registerTrust } from './trust.js';

/**
 * `volact client …`: the machine's settings beyond slmgr. Only the declarations load here;
 * each action loads the client code when it runs.
 */
export function registerClient(program: Command): void {
  const cmd = program.command('client').description('client machine settings beyond slmgr');
  registerTrust(cmd);
  registerDirectory(cmd);
  registerSettings(cmd);
  registerRequests(cmd);
  registerEvents(cmd);
}
