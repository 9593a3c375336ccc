import { randomUUID } from 'node:crypto';
import { VolactError, decodeKey, keyTagValid, type IncreaseRequestBody } from '@volact/protocol';
import type { IncreaseRequest } from '../store.js';
import { auditEntry, keyHash, type Actor, type VerbContext } from './verb-context.js';

/**
 * Finds the record of an issued host key, datacenter key or MAK from the key itself (knowing it
 * proves ownership). A datacenter key lives with the host keys, so its requests are `host-key`
 * requests: the same limits rise the same way.
 */
async function ownKey(ctx: VerbContext, typed: string): Promise<{ kind: 'host-key' | 'mak'; id: string }> {
  const decoded = decodeKey(typed);
  if (decoded.keyClass !== 'host' && decoded.keyClass !== 'datacenter' && decoded.keyClass !== 'mak')
    throw new VolactError('KEY_WRONG_CLASS', { actual: decoded.keyClass, expected: 'host, datacenter or MAK' });
  if (!keyTagValid(ctx.keys.mintSecret, decoded)) throw new VolactError('KEY_UNKNOWN');
  const hash = keyHash(decoded.canonical);
  if (decoded.keyClass === 'mak') {
    const mak = await ctx.store.findMakByHash(hash);
    if (!mak) throw new VolactError('KEY_UNKNOWN');
    return { kind: 'mak', id: mak.id };
  }
  const row = await ctx.store.findHostKeyByHash(hash);
  if (!row || row.keyClass !== decoded.keyClass) throw new VolactError('KEY_UNKNOWN');
  return { kind: 'host-key', id: row.id };
}

/** A customer asks for more activations (MAK, host or datacenter key) or more hosts (host or datacenter key). */
export async function requestIncrease(
  ctx: VerbContext,
  req: IncreaseRequestBody,
): Promise<{ id: string; state: string }> {
  const key = await ownKey(ctx, req.key);
  if (key.kind === 'mak' && req.what === 'hosts')
    throw new VolactError('BAD_REQUEST', { field: 'what', problem: 'must be activations for a MAK' });
  const id = `IR-${randomUUID().slice(0, 8)}`;
  await ctx.store.createIncreaseRequest({
    id,
    keyKind: key.kind,
    keyId: key.id,
    what: req.what,
    amount: req.amount,
    reason: req.reason,
    createdAt: ctx.clock.now(),
  });
  return { id, state: 'pending' };
}

/** The state of a request, for the customer who holds the key it is about. */
export async function increaseStatus(ctx: VerbContext, id: string, typedKey: string): Promise<IncreaseRequest> {
  const key = await ownKey(ctx, typedKey);
  const request = await ctx.store.increaseRequest(id);
  if (!request || request.keyId !== key.id) throw new VolactError('REQUEST_UNKNOWN', { id });
  return request;
}

/** The publisher approves (with the amount granted, default the amount asked) or rejects a request. */
export async function decideIncrease(
  ctx: VerbContext,
  id: string,
  approve: boolean,
  amount: number | undefined,
  note: string | undefined,
  actor: Actor,
): Promise<IncreaseRequest> {
  const request = await ctx.store.increaseRequest(id);
  if (!request) throw new VolactError('REQUEST_UNKNOWN', { id });
  const granted = amount ?? request.amount;
  if (!Number.isInteger(granted) || granted < 1 || granted > 10_000_000)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'amount', min: 1, max: 10_000_000, value: granted });
  const decided = await ctx.store.decideIncreaseRequest(
    id,
    { approve, granted, note: note ?? null, now: ctx.clock.now() },
    auditEntry(ctx, actor, approve ? 'request.approve' : 'request.reject', id, ''),
  );
  if (!decided) throw new VolactError('REQUEST_DECIDED', { id, state: request.state });
  return decided;
}
