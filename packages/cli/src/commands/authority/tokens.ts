import type { Command } from 'commander';
import { emit, iso, table } from '../../output.js';
import { cliActor, intOption, run, storeCommand, withAuthority } from './common.js';

/** `authority token …` and `authority audit`: who may call the admin API, and what was done. */
export function registerTokens(cmd: Command): void {
  const token = cmd.command('token').description('admin API tokens (bearer, scoped; only a hash is stored)');
  /** A token subcommand: opens the store like the others (--dir, --database, --json). */
  storeCommand(token, 'create')
    .description('create a token; its secret is shown once')
    .requiredOption('--name <name>', 'what the token is for')
    .requiredOption('--scope <scopes>', 'comma-separated: read, issue, approve, admin')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const t = await authority.createToken(
            o.name as string,
            String(o.scope)
              .split(',')
              .map((x) => x.trim())
              .filter(Boolean),
            cliActor(),
          );
          emit(
            Boolean(o.json),
            t,
            () =>
              `${t.token}\nToken ${t.id} (${t.name}) with scopes ${t.scopes.join(', ')}. It is shown only now; send it as Authorization: Bearer TOKEN.`,
          );
        });
      }),
    );
  storeCommand(token, 'list')
    .description('tokens, never their secrets')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const rows = (await authority.listTokens()).map(({ tokenHash: _h, ...t }) => ({
            ...t,
            scopes: t.scopes.join(','),
            created: iso(t.createdAt),
            revoked: iso(t.revokedAt),
          }));
          emit(Boolean(o.json), rows, () => table(rows, ['id', 'name', 'scopes', 'created', 'revoked']));
        });
      }),
    );
  storeCommand(token, 'revoke')
    .argument('<id>', 'token ID (T…)')
    .description('revoke a token at once, on every node')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          await authority.revokeToken(o._arg as string, cliActor());
          emit(Boolean(o.json), { revoked: o._arg }, () => `Token ${o._arg as string} revoked.`);
        });
      }),
    );

  storeCommand(cmd, 'audit')
    .description('the audit log of administrative writes, newest first')
    .option('--limit <n>', 'how many entries', '50')
    .action(
      run(async (o) => {
        await withAuthority(o, async (authority) => {
          const rows = (await authority.auditLog(intOption('limit', o.limit as string, 1, 10_000)!)).map((r) => ({
            ...r,
            at: iso(r.at),
          }));
          emit(Boolean(o.json), rows, () => table(rows, ['at', 'actor', 'action', 'target', 'detail']));
        });
      }),
    );
}
