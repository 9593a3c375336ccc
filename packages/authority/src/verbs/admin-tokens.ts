import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { VolactError } from '@volact/protocol';
import { tokenScopes, type TokenScope } from '../store.js';
import { auditEntry, type Actor, type VerbContext } from './verb-context.js';

export type IssuedToken = { id: string; token: string; name: string; scopes: TokenScope[] };

const tokenHash = (secret: string) => createHash('sha256').update(`volact-token/${secret}`).digest('base64url');

/** Creates an admin API token; the secret is shown once, only its hash is kept. */
export async function createToken(
  ctx: VerbContext,
  name: string,
  scopes: string[],
  actor: Actor,
): Promise<IssuedToken> {
  if (typeof name !== 'string' || name.length < 1 || name.length > 100)
    throw new VolactError('BAD_REQUEST', { field: 'name', problem: 'must be 1 to 100 characters' });
  const bad = scopes.find((s) => !tokenScopes.includes(s as TokenScope));
  if (scopes.length === 0 || bad !== undefined)
    throw new VolactError('BAD_REQUEST', {
      field: 'scopes',
      problem: `must be some of ${tokenScopes.join(', ')}${bad !== undefined ? `; got ${bad}` : ''}`,
    });
  const id = `T${randomBytes(5).toString('hex')}`;
  const secret = randomBytes(24).toString('base64url');
  const unique = [...new Set(scopes)] as TokenScope[];
  await ctx.store.insertToken(
    { id, name, scopes: unique, tokenHash: tokenHash(secret), createdAt: ctx.clock.now() },
    auditEntry(ctx, actor, 'token.create', id, `${name}: ${unique.join(',')}`),
  );
  return { id, token: `vat_${id}_${secret}`, name, scopes: unique };
}

export async function revokeToken(ctx: VerbContext, id: string, actor: Actor): Promise<void> {
  if (!(await ctx.store.revokeToken(id, auditEntry(ctx, actor, 'token.revoke', id, 'revoked'))))
    throw new VolactError('REQUEST_UNKNOWN', { id });
}

/** Checks a bearer token: known, not revoked, secret matching its stored hash. */
export async function authenticate(
  ctx: VerbContext,
  authorization: string | undefined,
): Promise<{ id: string; scopes: TokenScope[] }> {
  if (!authorization) throw new VolactError('TOKEN_MISSING');
  const m = /^Bearer vat_(T[0-9a-f]{10})_([A-Za-z0-9_-]{32})$/.exec(authorization.trim());
  if (!m) throw new VolactError('TOKEN_INVALID');
  const row = await ctx.store.findToken(m[1]!);
  const given = Buffer.from(tokenHash(m[2]!));
  if (!row || row.revokedAt !== null || !timingSafeEqual(Buffer.from(row.tokenHash), given))
    throw new VolactError('TOKEN_INVALID');
  return { id: row.id, scopes: row.scopes };
}
