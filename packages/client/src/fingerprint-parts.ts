/**
 * What the Windows and macOS fingerprint readers keep of what the OS reports: the same rules as
 * the Linux reader (no empty or all-zero values, no virtual or loopback adapters), spelled for
 * the values those systems print.
 */

/**
 * Serials and UUIDs that firmware leaves as placeholders: they name no part, so they are no part
 * (two machines of one vendor would share them). The strings are the SMBIOS defaults that
 * AMI, Insyde and Phoenix firmware ship; 03000200-0400-0500-0006-000700080009 is AMI's default
 * system UUID.
 */
const PLACEHOLDERS = new Set(
  [
    'to be filled by o.e.m.',
    'to be filled by oem',
    'default string',
    'system serial number',
    'base board serial number',
    'chassis serial number',
    'not specified',
    'not applicable',
    'not available',
    'none',
    'n/a',
    'na',
    'oem',
    'o.e.m.',
    'unknown',
    'invalid',
    'serial',
    '123456789',
    '0123456789',
    '03000200-0400-0500-0006-000700080009',
  ].map((s) => s.toLowerCase()),
);

/** The part's value, trimmed; '' when it is empty, a placeholder, or all zeros or all Fs. */
export function partValue(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  const v = raw.trim();
  if (!v || PLACEHOLDERS.has(v.toLowerCase())) return '';
  // 0000…, 00:00:…, FFFFFFFF-FFFF-…: what an unset field reads as
  if (/^[0\s:._-]+$/.test(v) || /^[fF\s:._-]+$/.test(v)) return '';
  return v;
}

/**
 * A network adapter's burnt-in address as Linux prints it (lowercase, colons), or '' when it is
 * none: not six octets, multicast, or locally administered. Locally administered addresses are
 * made up by software (Hyper-V and VPN adapters, Windows' random hardware addresses for Wi-Fi,
 * Apple's private addresses), so they change without the hardware changing (IEEE 802, the U/L bit).
 */
export function macValue(raw: unknown): string {
  if (typeof raw !== 'string') return '';
  const mac = raw.trim().toLowerCase().replace(/-/g, ':');
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(mac)) return '';
  const first = parseInt(mac.slice(0, 2), 16);
  if (first & 0b11) return '';
  return partValue(mac);
}

/** Sorted and without repeats: the order the OS lists parts in is not part of the machine. */
export function partSet(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))].sort();
}
