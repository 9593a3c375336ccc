import type { Command } from 'commander';
import { registerGuests } from './guests.js';
import { registerServe } from './serve.js';

/** `volact hypervisor …`: run a hypervisor agent and look into it. Keys go through `volact slmgr --hypervisor`. */
export function registerHypervisor(program: Command): void {
  const cmd = program
    .command('hypervisor')
    .description('a hypervisor agent that activates its own VMs (keys: volact slmgr --hypervisor DIR -ipk/-ato/-dlv)');
  registerServe(cmd);
  registerGuests(cmd);
}
