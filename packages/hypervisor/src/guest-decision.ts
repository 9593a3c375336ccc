import { VolactError, decodeKey, defaults, type Catalog, type Edition, type VmActivateRequest } from '@volact/protocol';
import type { HostCertificate } from '@volact/host';
import type { VmEntry } from './inventory.js';

/**
 * What the guest channel decides for one well-formed request, before anything is signed. The
 * order is the contract (issue 12): a caller that is not a guest of this hypervisor learns
 * nothing about which editions it covers.
 */
export type GuestDecision =
  | { outcome: 'success'; vm: VmEntry; edition: Edition; certified: HostCertificate }
  | { outcome: 'invalidData'; error: VolactError; edition?: Edition }
  | {
      outcome: 'denied';
      reason: 'inventory' | 'interface' | 'edition' | 'clockSkew';
      error: VolactError;
      vm?: VmEntry;
      edition?: Edition;
    };

const denied = (reason: 'inventory' | 'interface' | 'edition', detail: string) =>
  new VolactError('VM_DENIED', { reason, detail });

/** The edition whose public VM key this is; VM_INVALID_DATA for any other key. */
export function editionForVmKey(vmKey: string, catalog: Catalog | undefined): Edition | VolactError {
  let key;
  try {
    key = decodeKey(vmKey);
  } catch (err) {
    return new VolactError('VM_INVALID_DATA', { detail: `vmKey: ${(err as VolactError).message}` });
  }
  if (key.keyClass !== 'vm')
    return new VolactError('VM_INVALID_DATA', { detail: `vmKey is a ${key.keyClass} key, not a VM key` });
  const edition = catalog?.editions.find((e) => e.number === key.ref);
  if (!edition || edition.vmKey === undefined || decodeKey(edition.vmKey).canonical !== key.canonical)
    return new VolactError('VM_INVALID_DATA', { detail: "vmKey is not the publisher's VM key of any edition" });
  return edition;
}

/**
 * Decides one request from an activated agent: the VM key (c), the inventory (d), the source
 * MAC (e), the agent's certified editions (f), the clock (g).
 */
export function decideGuest(
  req: VmActivateRequest,
  ctx: {
    catalog: Catalog | undefined;
    vm: VmEntry | undefined;
    mac: string | undefined;
    certFor: ReadonlyMap<number, HostCertificate>;
    now: number;
  },
): GuestDecision {
  const edition = editionForVmKey(req.vmKey, ctx.catalog);
  if (edition instanceof VolactError) return { outcome: 'invalidData', error: edition };
  const { vm } = ctx;
  if (!vm)
    return {
      outcome: 'denied',
      reason: 'inventory',
      error: denied('inventory', `VM ${req.vmUuid} is not in this hypervisor's inventory`),
      edition,
    };
  if (!ctx.mac || !vm.macs.includes(ctx.mac))
    return {
      outcome: 'denied',
      reason: 'interface',
      error: denied(
        'interface',
        ctx.mac
          ? `the request came from ${ctx.mac}, not a network interface of this VM`
          : 'its source has no neighbour entry',
      ),
      vm,
      edition,
    };
  const certified = ctx.certFor.get(edition.number);
  if (!certified)
    return {
      outcome: 'denied',
      reason: 'edition',
      error: denied('edition', `the datacenter keys of this hypervisor do not cover ${edition.code}`),
      vm,
      edition,
    };
  const skew = Math.abs(req.clientTime - ctx.now);
  if (skew > defaults.maxClockSkewMs)
    return {
      outcome: 'denied',
      reason: 'clockSkew',
      error: new VolactError('CLOCK_SKEW', { minutes: Math.round(skew / 60_000) }),
      vm,
      edition,
    };
  return { outcome: 'success', vm, edition, certified };
}
