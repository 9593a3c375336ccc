import { posix, win32 } from 'node:path';

/** The roles that keep a state directory of their own. */
export type StateRole = 'client' | 'host' | 'authority' | 'hypervisor';

/** What the default depends on: injectable so tests can play any platform and user. */
export type PlatformContext = { platform: NodeJS.Platform; env: NodeJS.ProcessEnv; uid?: number };

/** The variable that names each role's directory (it wins over the default on every platform). */
export const stateDirEnv = {
  client: 'VOLACT_STATE_DIR',
  host: 'VOLACT_HOST_DIR',
  authority: 'VOLACT_AUTHORITY_DIR',
  hypervisor: 'VOLACT_HYPERVISOR_DIR',
} as const satisfies Record<StateRole, string>;

const here = (): PlatformContext => ({ platform: process.platform, env: process.env, uid: process.getuid?.() });

/**
 * The one place a role's default state directory is decided, where each system keeps a
 * service's data: %ProgramData%\volact\<role> on Windows, /Library/Application Support/volact/<role>
 * on macOS, /var/lib/volact/<role> elsewhere. A client run by a user other than root keeps its
 * state in that user's own directory (macOS ~/Library/Application Support, else
 * ~/.local/state as the XDG base directory spec puts it), since it may not write the machine's.
 */
export function defaultStateDir(role: StateRole, ctx: PlatformContext = here()): string {
  const { platform, env } = ctx;
  const named = env[stateDirEnv[role]];
  if (named) return named;
  const ownUser = role === 'client' && ctx.uid !== 0;
  switch (platform) {
    case 'win32':
      return win32.join(env.ProgramData ?? env.ALLUSERSPROFILE ?? 'C:\\ProgramData', 'volact', role);
    case 'darwin':
      return ownUser
        ? posix.join(env.HOME ?? '.', 'Library/Application Support/volact', role)
        : posix.join('/Library/Application Support/volact', role);
    default:
      return ownUser ? posix.join(env.HOME ?? '.', '.local/state/volact', role) : posix.join('/var/lib/volact', role);
  }
}
