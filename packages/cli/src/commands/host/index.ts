import type { Command } from 'commander';
import { registerConfig } from './config.js';
import { registerDns } from './dns.js';
import { registerEvents } from './events.js';
import { registerServe } from './serve.js';
import { registerToken } from './token.js';
import { registerUsageReport } from './usage-report.js';
import { registerVerifyLog } from './verify-log.js';

/** `volact host …`: run an activation host and look into it. Settings go through `volact slmgr --host`. */
export function registerHost(program: Command): void {
  const cmd = program
    .command('host')
    .description('an activation host on the customer network (settings: volact slmgr --host DIR -sai/-sri/-sprt)');
  registerServe(cmd);
  registerEvents(cmd);
  registerDns(cmd);
  registerConfig(cmd);
  registerUsageReport(cmd);
  registerVerifyLog(cmd);
  registerToken(cmd);
}
