import { createHash } from 'node:crypto';
import {
  VolactError,
  decodeKey,
  keyTagValid,
  type Catalog,
  type Clock,
  type IssuerPurpose as ProtocolIssuerPurpose,
} from '@volact/protocol';
import type { AuthorityKeys, Issuer } from '../keys.js';
import type { Audit, AuthorityStore, HostKeyRow, SlotKeyClass } from '../store.js';

/** Who asks: `cli:<user>` on the authority's machine, `token:<id>` through the admin API. */
export type Actor = string;

/** The issuing keys' purposes: the protocol's list, so a new signer is one change in one place. */
export type IssuerPurpose = ProtocolIssuerPurpose;

/** What every verb works with: the keys, the store, the clock and the signed catalog of the moment. */
export type VerbContext = {
  readonly keys: AuthorityKeys;
  readonly store: AuthorityStore;
  readonly clock: Clock;
  catalog(): Promise<{ catalog: Catalog; jws: string; issuer: string }>;
};

export function keyHash(canonical: string): string {
  return createHash('sha256').update(`volact-key-hash/${canonical}`).digest('base64url');
}

/** The current issuing key for a purpose, or AUTHORITY_NOT_READY with the command that certifies one. */
export function issuer(ctx: Pick<VerbContext, 'keys'>, purpose: IssuerPurpose): Issuer {
  const found = ctx.keys.issuers.get(purpose);
  if (!found)
    throw new VolactError('AUTHORITY_NOT_READY', {
      detail: `no ${purpose} issuing key (certify one: volact authority rotate-issuer --purpose ${purpose})`,
    });
  return found;
}

/** An audit entry stamped with the context's clock, for the store to write with the change. */
export function auditEntry(
  ctx: Pick<VerbContext, 'clock'>,
  actor: Actor,
  action: string,
  target: string,
  detail: string,
): Audit {
  return { actor, action, target, detail, at: ctx.clock.now() };
}

/**
 * Finds an issued host key (or, with `keyClass`, datacenter key); anything not minted here or not
 * on record is an "unknown key", and a key of another class is refused before any slot is used
 * (a datacenter key typed where a host key belongs, or the reverse).
 */
export async function findHostKey(
  ctx: VerbContext,
  typed: string,
  keyClass: SlotKeyClass = 'host',
): Promise<HostKeyRow> {
  const decoded = decodeKey(typed);
  if (decoded.keyClass !== keyClass)
    throw new VolactError('KEY_WRONG_CLASS', { actual: decoded.keyClass, expected: keyClass });
  if (!keyTagValid(ctx.keys.mintSecret, decoded)) throw new VolactError('KEY_UNKNOWN');
  const row = await ctx.store.findHostKeyByHash(keyHash(decoded.canonical));
  if (!row) throw new VolactError('KEY_UNKNOWN');
  // the stored class must agree with the key's own: a row can never serve the other role
  if (row.keyClass !== keyClass) throw new VolactError('KEY_WRONG_CLASS', { actual: row.keyClass, expected: keyClass });
  return row;
}
