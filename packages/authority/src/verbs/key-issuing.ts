import { randomBytes, randomUUID } from 'node:crypto';
import { VolactError, decodeKey, defaults, makIdOf, mintKey, partialKey } from '@volact/protocol';
import { auditEntry, keyHash, type Actor, type VerbContext } from './verb-context.js';

export type IssuedHostKey = { key: string; id: string; group: string; maxHosts: number; maxActivations: number };
export type IssuedMak = { key: string; id: string; edition: string; maxActivations: number };

/** Issues a host key for one group with its host and activation limits (shown once; only its hash is kept). */
export async function issueHostKey(
  ctx: VerbContext,
  groupCode: string,
  limits: { maxHosts?: number; maxActivations?: number },
  actor: Actor,
): Promise<IssuedHostKey> {
  const group = (await ctx.catalog()).catalog.groups.find((g) => g.code === groupCode);
  if (!group) throw new VolactError('GROUP_UNKNOWN', { group: groupCode });
  const maxHosts = limits.maxHosts ?? defaults.hostKeyMaxHosts;
  const maxActivations = limits.maxActivations ?? defaults.hostKeyMaxActivations;
  for (const [name, value] of [
    ['hosts', maxHosts],
    ['activations', maxActivations],
  ] as const) {
    if (!Number.isInteger(value) || value < 1 || value > 100_000)
      throw new VolactError('VALUE_OUT_OF_RANGE', { name, min: 1, max: 100_000, value });
  }
  const serial = BigInt('0x' + randomBytes(7).toString('hex'));
  const key = mintKey(ctx.keys.mintSecret, 'host', group.number, serial);
  const id = `HK-${randomUUID().slice(0, 8)}`;
  await ctx.store.insertHostKey(
    {
      id,
      keyHash: keyHash(key),
      partial: partialKey(key),
      groupCode: group.code,
      maxHosts,
      maxActivations,
      createdAt: ctx.clock.now(),
    },
    auditEntry(
      ctx,
      actor,
      'host-key.issue',
      id,
      `group ${group.code}, ${maxHosts} hosts, ${maxActivations} activations, key ending ${partialKey(key)}`,
    ),
  );
  return { key, id, group: group.code, maxHosts, maxActivations };
}

/** Issues a MAK for one edition with a number of activations (shown once; only its hash is kept). */
export async function issueMak(
  ctx: VerbContext,
  editionCode: string,
  activations: number,
  actor: Actor,
): Promise<IssuedMak> {
  const edition = (await ctx.catalog()).catalog.editions.find((e) => e.code === editionCode);
  if (!edition) throw new VolactError('CATALOG_INVALID', { detail: `there is no edition ${editionCode}` });
  if (!Number.isInteger(activations) || activations < 1 || activations > 10_000_000)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'activations', min: 1, max: 10_000_000, value: activations });
  const key = mintKey(ctx.keys.mintSecret, 'mak', edition.number, BigInt('0x' + randomBytes(7).toString('hex')));
  const id = makIdOf(decodeKey(key));
  await ctx.store.insertMak(
    {
      id,
      keyHash: keyHash(key),
      partial: partialKey(key),
      edition: edition.number,
      maxActivations: activations,
      createdAt: ctx.clock.now(),
    },
    auditEntry(
      ctx,
      actor,
      'mak.issue',
      id,
      `edition ${edition.code}, ${activations} activations, key ending ${partialKey(key)}`,
    ),
  );
  return { key, id, edition: edition.code, maxActivations: activations };
}
