/**
 * The test harness (test/harness/*), loaded from its build output. attack/ sits beside test/, so
 * the relative path from attack/dist/ differs from the one from attack/: the types come from a
 * type-only import (resolved from the source tree), the code from a URL relative to this file.
 */
import type * as Cli from '../test/dist/harness/cli.js';
import type * as Machines from '../test/dist/harness/machines.js';
import type * as Processes from '../test/dist/harness/processes.js';
import type * as World from '../test/dist/harness/world.js';

const harness = new URL('../../test/dist/harness/', import.meta.url);
const load = (file: string) => import(new URL(file, harness).href);

export const { volact, tempDir } = (await load('cli.js')) as typeof Cli;
export const { activationBody, admin, post } = (await load('machines.js')) as typeof Machines;
export const { makeAuthority, startHost } = (await load('world.js')) as typeof World;
export type Service = Processes.Service;
