import type { Log } from '@volact/io';
import { readFileSync, statSync } from 'node:fs';
import { inventoryError, normaliseMac, normaliseUuid, type Inventory, type VmEntry } from './inventory.js';

/** A static inventory file is read whole; a hoster's list of VMs stays far below this. */
const MAX_FILE = 16 * 1024 * 1024;

/**
 * Parses a static inventory: `{"vms":[{"uuid":"…","name":"…","macs":["52:54:00:…"]}]}`. UUIDs and
 * MACs are normalised (normaliseUuid, normaliseMac); a problem names its field, e.g.
 * `vms[2].macs[0] is not a MAC address`.
 */
export function parseStaticInventory(text: string, source: string): VmEntry[] {
  const bad = (detail: string) => inventoryError(source, detail);
  let doc: unknown;
  try {
    // Windows PowerShell 5 (Set-Content -Encoding utf8) writes a byte order mark first
    doc = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (err) {
    throw bad(`not JSON (${(err as Error).message})`);
  }
  const vms = (doc as { vms?: unknown } | null)?.vms;
  if (typeof doc !== 'object' || doc === null || !Array.isArray(vms)) throw bad('vms must be a list of VMs');
  const seen = new Set<string>();
  // a MAC is the proof of which VM asks: one shared by two VMs (clones) would let each pass for the other
  const macOwner = new Map<string, string>();
  return vms.map((vm: unknown, i) => {
    const at = `vms[${i}]`;
    if (typeof vm !== 'object' || vm === null || Array.isArray(vm)) throw bad(`${at} must be an object`);
    const { uuid, name, macs } = vm as Record<string, unknown>;
    const id = typeof uuid === 'string' ? normaliseUuid(uuid) : undefined;
    if (!id) throw bad(`${at}.uuid must be a VM UUID (32 hexadecimal digits, as 8-4-4-4-12)`);
    if (seen.has(id)) throw bad(`${at}.uuid ${id} is listed twice`);
    seen.add(id);
    if (name !== undefined && (typeof name !== 'string' || name.length < 1 || name.length > 128))
      throw bad(`${at}.name must be 1 to 128 characters`);
    if (!Array.isArray(macs) || macs.length === 0) throw bad(`${at}.macs must be a non-empty list of MAC addresses`);
    const normalised = macs.map((m: unknown, j) => {
      const mac = typeof m === 'string' ? normaliseMac(m) : undefined;
      if (!mac) throw bad(`${at}.macs[${j}] is not a MAC address`);
      const owner = macOwner.get(mac);
      if (owner !== undefined && owner !== id)
        throw bad(`${at}.macs[${j}] ${mac} is also a MAC of VM ${owner}: give each VM its own MACs`);
      macOwner.set(mac, id);
      return mac;
    });
    return { uuid: id, name: (name as string | undefined) ?? id, macs: [...new Set(normalised)] };
  });
}

/**
 * An inventory kept in a JSON file (exported from Hyper-V, VMware or a hoster's own tooling). It
 * is read again when its modification time or size changes; a bad new version is logged and the
 * last good one kept, so a half-written file never takes every guest's activation down.
 */
export class StaticInventory implements Inventory {
  readonly source: string;
  private byUuid = new Map<string, VmEntry>();
  private stamp = '';

  constructor(
    private readonly file: string,
    private readonly log: Log,
  ) {
    this.source = `static:${file}`;
    this.load(true);
  }

  private load(first: boolean): void {
    let stamp: string;
    let text: string;
    try {
      const st = statSync(this.file);
      stamp = `${st.mtimeMs}:${st.size}`;
      if (stamp === this.stamp) return;
      if (st.size > MAX_FILE) throw new Error(`larger than ${MAX_FILE} bytes`);
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      const e = inventoryError(
        this.source,
        `cannot read it: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
      if (first) throw e;
      if (this.stamp !== 'unreadable') this.keep(e); // logged once until the file is back
      this.stamp = 'unreadable';
      return;
    }
    try {
      const vms = parseStaticInventory(text, this.source);
      this.byUuid = new Map(vms.map((vm) => [vm.uuid, vm]));
      this.stamp = stamp;
      if (!first) this.log.info({ inventory: this.source, vms: vms.length, reloaded: true }, 'inventory reloaded');
    } catch (err) {
      if (first) throw err;
      this.stamp = stamp; // logged once per version of the file, not on every request
      this.keep(err as Error);
    }
  }

  private keep(err: Error): void {
    this.log.warn(
      { inventory: this.source, error: err.message, kept: `${this.byUuid.size} VMs` },
      'inventory not read, the previous one kept',
    );
  }

  async lookup(vmUuid: string): Promise<VmEntry | undefined> {
    this.load(false);
    return this.byUuid.get(vmUuid);
  }

  async list(): Promise<VmEntry[]> {
    this.load(false);
    return [...this.byUuid.values()];
  }
}
