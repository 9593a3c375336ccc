import { win32 } from 'node:path';
import { VolactError, type Fingerprint } from '@volact/protocol';
import { macValue, partSet, partValue } from './fingerprint-parts.js';
import type { RunCommand } from './run-command.js';

/** One CIM class's instances as ConvertTo-Json prints them (property name to value). */
type CimRecord = Record<string, unknown>;

/** The CIM classes the Windows reader asks for, and the properties it keeps of each. */
const CIM_QUERIES = {
  ComputerSystemProduct: { cls: 'Win32_ComputerSystemProduct', props: ['UUID'] },
  BaseBoard: { cls: 'Win32_BaseBoard', props: ['SerialNumber'] },
  Processor: { cls: 'Win32_Processor', props: ['Name'] },
  DiskDrive: { cls: 'Win32_DiskDrive', props: ['SerialNumber', 'InterfaceType', 'MediaType', 'PNPDeviceID'] },
  NetworkAdapter: {
    cls: 'Win32_NetworkAdapter',
    props: ['Name', 'MACAddress', 'PNPDeviceID'],
    filter: 'PhysicalAdapter = TRUE',
  },
} as const;

type CimName = keyof typeof CIM_QUERIES;
export type CimAnswer = Record<CimName, CimRecord[]>;

/**
 * One PowerShell run for every class (PowerShell takes most of a second to start): a hashtable
 * of Select-Object results, as one JSON document. Only cmdlets and a hashtable, so it also runs
 * in Constrained Language Mode (AppLocker, WDAC).
 */
export function cimScript(): string {
  const lines = Object.entries(CIM_QUERIES).map(([name, q]) => {
    const filter = 'filter' in q ? ` -Filter '${q.filter}'` : '';
    return `  ${name} = @(Get-CimInstance -ClassName ${q.cls}${filter} | Select-Object -Property ${q.props.join(',')})`;
  });
  return [
    "$ErrorActionPreference = 'Stop'",
    "$ProgressPreference = 'SilentlyContinue'",
    '@{',
    ...lines,
    '} | ConvertTo-Json -Depth 3 -Compress',
  ].join('\n');
}

/**
 * ConvertTo-Json's shapes for "some instances": one instance prints as an object, none as null,
 * and Windows PowerShell 5.1 sometimes wraps an array as {"value": [...], "Count": n}.
 */
function instances(v: unknown): CimRecord[] {
  if (v === null || v === undefined) return [];
  if (Array.isArray(v)) return v.filter((x): x is CimRecord => typeof x === 'object' && x !== null);
  if (typeof v === 'object') {
    const o = v as CimRecord;
    if (Array.isArray(o.value) && 'Count' in o) return instances(o.value);
    return [o];
  }
  return [];
}

/** Parses the script's output; a JSON value per class, each object, array or null. */
export function parseCimJson(out: string): CimAnswer {
  const doc = JSON.parse(out.replace(/^\uFEFF/, '')) as Record<string, unknown>;
  if (typeof doc !== 'object' || doc === null) throw new Error('the CIM answer is not a JSON object');
  const answer = {} as CimAnswer;
  for (const name of Object.keys(CIM_QUERIES) as CimName[]) answer[name] = instances(doc[name]);
  return answer;
}

/** Parses `reg query HKLM\SOFTWARE\Microsoft\Cryptography /v MachineGuid`: the value line's data. */
export function parseMachineGuid(out: string): string {
  return partValue(/^\s*MachineGuid\s+REG_SZ\s+(.+?)\s*$/im.exec(out)?.[1]);
}

/** Removable media come and go without the machine changing (USB sticks, card readers). */
function fixedDisk(d: CimRecord): boolean {
  const media = String(d.MediaType ?? '');
  const bus = String(d.InterfaceType ?? '');
  const pnp = String(d.PNPDeviceID ?? '');
  return !/removable/i.test(media) && bus !== 'USB' && !/^USBSTOR\\/i.test(pnp);
}

/**
 * Adapters that Windows counts as physical but that are software or come and go: drivers
 * enumerated by the system itself (ROOT\, SWD\), hypervisor and VPN adapters, Bluetooth PAN,
 * Wi-Fi Direct. The Linux reader skips veth, docker, br-, virbr for the same reason.
 */
const VIRTUAL_ADAPTER =
  /virtual|hyper-v|vmware|virtualbox|vethernet|vpn|tap-windows|wintun|wireguard|tunnel|miniport|loopback|bluetooth|wi-fi direct|npcap|docker|wsl/i;

function hardwareAdapter(a: CimRecord): boolean {
  const pnp = String(a.PNPDeviceID ?? '');
  return !/^(ROOT|SWD)\\/i.test(pnp) && !VIRTUAL_ADAPTER.test(String(a.Name ?? ''));
}

/** The hardware parts of a fingerprint from the CIM answer (the OS identity comes from the registry). */
export function cimParts(c: CimAnswer): Omit<Fingerprint, 'osId'> {
  const first = (records: CimRecord[], prop: string) => records.map((r) => partValue(r[prop])).find(Boolean) ?? '';
  return {
    cpu: first(c.Processor, 'Name'),
    // as on Linux: the SMBIOS system UUID (product_uuid), else the board's serial
    board: first(c.ComputerSystemProduct, 'UUID') || first(c.BaseBoard, 'SerialNumber'),
    disks: partSet(c.DiskDrive.filter(fixedDisk).map((d) => partValue(d.SerialNumber))),
    nics: partSet(c.NetworkAdapter.filter(hardwareAdapter).map((a) => macValue(a.MACAddress))),
  };
}

const REG_TIMEOUT_MS = 10_000;
/** PowerShell's first start after boot, with an antivirus scanning it, takes seconds. */
const CIM_TIMEOUT_MS = 60_000;

/**
 * Windows: MachineGuid (set when Windows is installed, new on a sysprepped image) and the
 * hardware through CIM. Both programs by their full path in %SystemRoot%, so a reg.exe or
 * powershell.exe earlier on PATH is not run instead.
 */
export function readWindowsFingerprint(run: RunCommand, env: NodeJS.ProcessEnv): Fingerprint {
  const system32 = win32.join(env.SystemRoot ?? env.windir ?? 'C:\\Windows', 'System32');
  // /reg:64: a 32-bit node would otherwise read WOW6432Node, where MachineGuid is not
  const reg = run(
    win32.join(system32, 'reg.exe'),
    ['query', 'HKLM\\SOFTWARE\\Microsoft\\Cryptography', '/v', 'MachineGuid', '/reg:64'],
    REG_TIMEOUT_MS,
  );
  const encoded = Buffer.from(cimScript(), 'utf16le').toString('base64');
  const cim = run(
    win32.join(system32, 'WindowsPowerShell', 'v1.0', 'powershell.exe'),
    ['-NoLogo', '-NoProfile', '-NonInteractive', '-EncodedCommand', encoded],
    CIM_TIMEOUT_MS,
  );
  let answer: CimAnswer;
  try {
    answer = parseCimJson(cim);
  } catch (err) {
    const reason = `its output is not the JSON expected (${err instanceof Error ? err.message : String(err)})`;
    throw new VolactError('FINGERPRINT_UNAVAILABLE', { command: 'powershell.exe Get-CimInstance', reason });
  }
  // without a MachineGuid every such machine would be the same "unknown" one (a clone to the others)
  const osId = parseMachineGuid(reg);
  if (!osId)
    throw new VolactError('FINGERPRINT_UNAVAILABLE', {
      command: 'reg.exe query HKLM\\SOFTWARE\\Microsoft\\Cryptography /v MachineGuid',
      reason: 'its output holds no MachineGuid',
    });
  return { osId, ...cimParts(answer) };
}
