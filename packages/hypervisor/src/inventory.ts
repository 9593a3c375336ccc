import { VolactError } from '@volact/protocol';

/** One virtual machine of this hypervisor: its SMBIOS UUID, its name and the MACs of its network interfaces. */
export type VmEntry = { uuid: string; name: string; macs: string[] };

/**
 * Where the agent learns which VMs run here. The guest channel answers only a VM it lists, asking
 * from one of that VM's own MACs. Each hypervisor has its own provider (static file, libvirt);
 * one that cannot read its source and has nothing read before throws INVENTORY_UNAVAILABLE.
 */
export interface Inventory {
  /** The VM with this (lowercase) UUID, if this hypervisor runs it. */
  lookup(vmUuid: string): Promise<VmEntry | undefined>;
  list(): Promise<VmEntry[]>;
  /** What `-dlv` shows: the provider and its source, e.g. `static:/etc/volact/vms.json`. */
  readonly source: string;
  close?(): void;
}

/**
 * A UUID in the form guests report it (lowercase 8-4-4-4-12), from the forms hypervisors print:
 * libvirt's, Hyper-V's BIOSGUID in braces, VMware's uuid.bios ("56 4d 12 … 9a-bc …"). Undefined
 * when it is not 32 hexadecimal digits.
 */
export function normaliseUuid(text: string): string | undefined {
  const hex = text.replace(/[{}\s-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A MAC in lowercase colon form, from libvirt's and VMware's `52:54:00:…`, Windows' `00-15-5D-…`
 * and Hyper-V's `00155D…`. Undefined when it is not 12 hexadecimal digits.
 */
export function normaliseMac(text: string): string | undefined {
  const hex = text.replace(/[:.-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{12}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/** An inventory problem, named by its source and the field at fault. */
export function inventoryError(source: string, detail: string): VolactError {
  return new VolactError('INVENTORY_UNAVAILABLE', { source, detail });
}

/** Parses an `--inventory` value: `static:FILE`, `libvirt` or `libvirt:URI`. */
export function parseInventorySpec(spec: string): { kind: 'static'; file: string } | { kind: 'libvirt'; uri: string } {
  if (spec.startsWith('static:') && spec.length > 'static:'.length) return { kind: 'static', file: spec.slice(7) };
  if (spec === 'libvirt') return { kind: 'libvirt', uri: 'qemu:///system' };
  if (spec.startsWith('libvirt:') && spec.length > 'libvirt:'.length) return { kind: 'libvirt', uri: spec.slice(8) };
  throw new VolactError('USAGE', {
    detail: `--inventory ${spec}: give static:FILE (a JSON list of VMs) or libvirt[:URI] (default qemu:///system)`,
  });
}
