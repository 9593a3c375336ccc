import type { Log } from '@volact/io';
import { execFile } from 'node:child_process';
import { inventoryError, normaliseMac, normaliseUuid, type Inventory, type VmEntry } from './inventory.js';

/** How often the VM list is read again, and how soon again at the earliest when a guest is not in it. */
export const LIBVIRT_REFRESH_MS = 30_000;
export const LIBVIRT_MISS_REFRESH_MS = 5_000;
/** One virsh call; a hung libvirtd must not hold guests' requests for long. */
const VIRSH_TIMEOUT_MS = 10_000;

const unescape = (s: string) =>
  s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&apos;/g, "'")
    .replace(/&amp;/g, '&');

/**
 * Reads what the agent needs from one domain's XML (`virsh dumpxml`): the top-level `<uuid>` and
 * `<name>`, and the `<mac address=…>` of every `<interface>`, whatever its type. Only those
 * elements are read; libvirt writes them in one fixed form (formatdomain), so no XML library.
 */
export function parseDomainXml(xml: string): VmEntry | undefined {
  // the domain's own uuid and name come before <devices>; later ones belong to devices (e.g. a disk's secret)
  const head = xml.split(/<devices[\s>]/)[0]!;
  const uuidText = /<uuid>\s*([^<]+?)\s*<\/uuid>/.exec(head)?.[1];
  const uuid = uuidText ? normaliseUuid(uuidText) : undefined;
  if (!uuid) return undefined;
  const name = unescape(/<name>([^<]*)<\/name>/.exec(head)?.[1] ?? uuid);
  const macs = new Set<string>();
  for (const [, body] of xml.matchAll(/<interface\b[^>]*>([\s\S]*?)<\/interface>/g)) {
    const addr = /<mac\s[^>]*address\s*=\s*(?:'([^']*)'|"([^"]*)")/.exec(body!);
    const mac = addr ? normaliseMac(addr[1] ?? addr[2] ?? '') : undefined;
    if (mac) macs.add(mac);
  }
  return { uuid, name: name.slice(0, 128) || uuid, macs: [...macs] };
}

export type Virsh = (args: string[]) => Promise<string>;

/** Runs `virsh ARGS` (found on PATH) with a timeout; stderr is the failure's message. */
export const runVirsh: Virsh = (args) =>
  new Promise((resolve, reject) =>
    execFile('virsh', args, { timeout: VIRSH_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) reject(new Error((stderr || err.message).trim().split('\n')[0]!.slice(0, 300)));
      else resolve(stdout);
    }),
  );

/** How long a guest's request waits for a new read of libvirt's list when its VM is not in it. */
export const LOOKUP_WAIT_MS = 2_000;

/** Waits for `p` at most `ms`; a slow or failing read is left to finish (or fail) on its own. */
function bounded(p: Promise<void>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    p.catch(() => undefined).finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/** The VMs with every MAC that two running domains share removed from both (they prove nothing). */
function withoutSharedMacs(
  vms: Map<string, VmEntry>,
  warn: (mac: string, vms: string[]) => void,
): Map<string, VmEntry> {
  const owners = new Map<string, string[]>();
  for (const vm of vms.values()) for (const mac of vm.macs) owners.set(mac, [...(owners.get(mac) ?? []), vm.uuid]);
  const shared = new Set([...owners].filter(([, o]) => o.length > 1).map(([mac]) => mac));
  for (const mac of shared) warn(mac, owners.get(mac)!);
  if (shared.size === 0) return vms;
  return new Map([...vms].map(([id, vm]) => [id, { ...vm, macs: vm.macs.filter((m) => !shared.has(m)) }]));
}

/**
 * The VMs libvirt runs on this host (`virsh -c URI list --uuid`, then `dumpxml` for each),
 * kept in memory and read again every 30 seconds, and at most every 5 seconds when a guest asks
 * that is not in the list (a VM just defined). A failed refresh keeps the last list and is logged.
 */
export class LibvirtInventory implements Inventory {
  readonly source: string;
  private byUuid = new Map<string, VmEntry>();
  private readAt = -Infinity;
  private loaded = false;
  private inFlight: Promise<void> | undefined;

  constructor(
    private readonly uri: string,
    private readonly log: Log,
    private readonly now: () => number = Date.now,
    private readonly virsh: Virsh = runVirsh,
  ) {
    this.source = `libvirt:${uri}`;
  }

  /** Reads the list now; throws INVENTORY_UNAVAILABLE when virsh fails and nothing was read before. */
  refresh(): Promise<void> {
    this.inFlight ??= this.read().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private async read(): Promise<void> {
    const started = this.now();
    try {
      // running domains only: a shut-off VM asks nothing, and its MACs are free for anyone to take
      const list = await this.virsh(['-c', this.uri, 'list', '--uuid']);
      const uuids = list
        .split('\n')
        .map((l) => l.trim())
        .filter(Boolean);
      const next = new Map<string, VmEntry>();
      for (const id of uuids) {
        let xml;
        try {
          xml = await this.virsh(['-c', this.uri, 'dumpxml', id]);
        } catch (err) {
          // undefined between the list and now: the next refresh will not list it
          this.log.warn({ inventory: this.source, vm: id, error: (err as Error).message }, 'VM not read');
          continue;
        }
        const vm = parseDomainXml(xml);
        if (vm) next.set(vm.uuid, vm);
      }
      this.byUuid = withoutSharedMacs(next, (mac, vms) =>
        this.log.warn({ inventory: this.source, mac, sharedBy: vms }, 'MAC not accepted'),
      );
      this.loaded = true;
    } catch (err) {
      const e = inventoryError(this.source, `virsh failed: ${(err as Error).message}`);
      if (!this.loaded) throw e;
      this.log.warn(
        { inventory: this.source, error: e.message, kept: this.byUuid.size },
        'inventory not read, the previous one kept',
      );
    } finally {
      this.readAt = started;
    }
  }

  /**
   * A guest's request never waits long for virsh (the guest gives up after 5 s): an old list is
   * refreshed in the background, and a VM not in the list (one just started) waits at most
   * LOOKUP_WAIT_MS for a new read.
   */
  async lookup(vmUuid: string): Promise<VmEntry | undefined> {
    if (!this.loaded) await this.refresh();
    else if (this.now() - this.readAt >= LIBVIRT_REFRESH_MS) this.refresh().catch(() => undefined);
    const vm = this.byUuid.get(vmUuid);
    if (vm || this.now() - this.readAt < LIBVIRT_MISS_REFRESH_MS) return vm;
    await bounded(this.refresh(), LOOKUP_WAIT_MS);
    return this.byUuid.get(vmUuid);
  }

  async list(): Promise<VmEntry[]> {
    if (!this.loaded || this.now() - this.readAt >= LIBVIRT_REFRESH_MS) await this.refresh();
    return [...this.byUuid.values()];
  }
}
