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

/**
 * The VMs libvirt knows on this host (`virsh -c URI list --all --uuid`, then `dumpxml` for each),
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
    private readonly log: (line: string) => void,
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
      const list = await this.virsh(['-c', this.uri, 'list', '--all', '--uuid']);
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
          this.log(JSON.stringify({ level: 'warn', inventory: this.source, vm: id, error: (err as Error).message }));
          continue;
        }
        const vm = parseDomainXml(xml);
        if (vm) next.set(vm.uuid, vm);
      }
      this.byUuid = next;
      this.loaded = true;
    } catch (err) {
      const e = inventoryError(this.source, `virsh failed: ${(err as Error).message}`);
      if (!this.loaded) throw e;
      this.log(JSON.stringify({ level: 'warn', inventory: this.source, error: e.message, kept: this.byUuid.size }));
    } finally {
      this.readAt = started;
    }
  }

  async lookup(vmUuid: string): Promise<VmEntry | undefined> {
    if (!this.loaded || this.now() - this.readAt >= LIBVIRT_REFRESH_MS) await this.refresh();
    const vm = this.byUuid.get(vmUuid);
    if (vm || this.now() - this.readAt < LIBVIRT_MISS_REFRESH_MS) return vm;
    await this.refresh();
    return this.byUuid.get(vmUuid);
  }

  async list(): Promise<VmEntry[]> {
    if (!this.loaded || this.now() - this.readAt >= LIBVIRT_REFRESH_MS) await this.refresh();
    return [...this.byUuid.values()];
  }
}
