import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import { adminCall } from '../../admin-client.js';
import { emit, fail, table } from '../../output.js';
import { defaultHostDir } from './inputs.js';

type TokenInfo = { id: string; name: string; scope: string; createdAt: string; revokedAt: string | null };

/** `volact host token create|list|revoke`: the host console's tokens, through the running host's admin socket. */
export function registerToken(cmd: Command): void {
  const token = cmd.command('token').description("the host console's login tokens (stored hashed; revocable)");
  token
    .command('create')
    .description('create a console token; its secret is printed once')
    .requiredOption('--name <name>', 'who or what the token is for (shown in the list and the log)')
    .option('--scope <scope>', 'read (see everything) or admin (also change settings)', 'read')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: { name: string; scope: string; state?: string; json?: boolean }) => {
      try {
        if (o.scope !== 'read' && o.scope !== 'admin')
          throw new VolactError('USAGE', { detail: `--scope ${o.scope.slice(0, 20)}: give read or admin` });
        const made = await adminCall<TokenInfo & { token: string; consoleUrl: string | null }>(
          o.state ?? defaultHostDir(),
          'POST',
          '/console-tokens',
          { name: o.name, scope: o.scope },
        );
        emit(Boolean(o.json), made, () =>
          [
            `token ${made.id} (${made.name}, scope ${made.scope}):`,
            made.token,
            'Keep it now: it is not stored and cannot be shown again.',
            made.consoleUrl ? `Log in at ${made.consoleUrl}` : 'The host console is off (--console-listen off).',
          ].join('\n'),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  token
    .command('list')
    .description('the console tokens (never their secrets)')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: { state?: string; json?: boolean }) => {
      try {
        const rows = await adminCall<TokenInfo[]>(o.state ?? defaultHostDir(), 'GET', '/console-tokens');
        emit(Boolean(o.json), rows, () => table(rows, ['id', 'name', 'scope', 'createdAt', 'revokedAt']));
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  token
    .command('revoke <id>')
    .description('revoke a console token: refused at once, its open sessions end')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--json', 'JSON output')
    .action(async (id: string, o: { state?: string; json?: boolean }) => {
      try {
        const r = await adminCall<TokenInfo>(o.state ?? defaultHostDir(), 'POST', '/console-tokens/revoke', { id });
        emit(Boolean(o.json), r, () => `token ${r.id} (${r.name}) revoked at ${r.revokedAt}`);
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
