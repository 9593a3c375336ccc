import { randomBytes, randomUUID } from 'node:crypto';
import { VolactError, decodeKey, defaults, makIdOf, mintKey, partialKey } from '@volact/protocol';
import type { SlotKeyClass } from '../store.js';
import { auditEntry, keyHash, type Actor, type VerbContext } from './verb-context.js';

export type IssuedHostKey = {
  key: string;
  id: string;
  keyClass: SlotKeyClass;
  group: string;
  maxHosts: number;
  maxActivations: number;
};
/** A datacenter key, with the codes of the guest editions its hypervisor agents may activate. */
export type IssuedDatacenterKey = IssuedHostKey & { guestEditions: string[] };
export type IssuedMak = { key: string; id: string; edition: string; maxActivations: number };

/** Issues a host key for one group with its host and activation limits (shown once; only its hash is kept). */
export function issueHostKey(
  ctx: VerbContext,
  groupCode: string,
  limits: { maxHosts?: number; maxActivations?: number },
  actor: Actor,
): Promise<IssuedHostKey> {
  return issueSlotKey(ctx, 'host', groupCode, limits, actor);
}

/**
 * Issues a datacenter key for a hypervisor agent: like a host key (6 hosts, 10 activations by
 * default; same slots, releases and increase requests), for a group with at least one guest edition.
 */
export async function issueDatacenterKey(
  ctx: VerbContext,
  groupCode: string,
  limits: { maxHosts?: number; maxActivations?: number },
  actor: Actor,
): Promise<IssuedDatacenterKey> {
  const guests = await guestEditions(ctx, groupCode);
  if (guests.length === 0) throw new VolactError('GROUP_NO_GUEST_EDITIONS', { group: groupCode });
  return { ...(await issueSlotKey(ctx, 'datacenter', groupCode, limits, actor)), guestEditions: guests };
}

/** The codes of a group's editions that may run as guests (those with a VM key). */
async function guestEditions(ctx: VerbContext, groupCode: string): Promise<string[]> {
  const { catalog } = await ctx.catalog();
  const group = catalog.groups.find((g) => g.code === groupCode);
  if (!group) throw new VolactError('GROUP_UNKNOWN', { group: groupCode });
  return catalog.editions.filter((e) => group.editions.includes(e.number) && e.vmKey !== undefined).map((e) => e.code);
}

const slotKeyKinds = {
  host: { prefix: 'HK', action: 'host-key.issue' },
  datacenter: { prefix: 'DK', action: 'datacenter-key.issue' },
} as const;

async function issueSlotKey(
  ctx: VerbContext,
  keyClass: SlotKeyClass,
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
  const key = mintKey(ctx.keys.mintSecret, keyClass, group.number, serial);
  const kind = slotKeyKinds[keyClass];
  const id = `${kind.prefix}-${randomUUID().slice(0, 8)}`;
  await ctx.store.insertHostKey(
    {
      id,
      keyHash: keyHash(key),
      partial: partialKey(key),
      groupCode: group.code,
      keyClass,
      maxHosts,
      maxActivations,
      createdAt: ctx.clock.now(),
    },
    auditEntry(
      ctx,
      actor,
      kind.action,
      id,
      `group ${group.code}, ${maxHosts} hosts, ${maxActivations} activations, key ending ${partialKey(key)}`,
    ),
  );
  return { key, id, keyClass, group: group.code, maxHosts, maxActivations };
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
