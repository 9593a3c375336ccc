import { VolactError } from '@volact/protocol';
import type { ConnectionLimits } from '@volact/io';

function count(name: string, text: string | boolean | undefined): number | undefined {
  if (typeof text !== 'string') return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n > 1_000_000)
    throw new VolactError('VALUE_OUT_OF_RANGE', { name, min: 0, max: 1_000_000, value: String(text).slice(0, 20) });
  return n;
}

/** --max-connections and --max-connections-per-address of the serve commands (0: no cap). */
export function connectionOptions(o: Record<string, string | boolean | undefined>): Partial<ConnectionLimits> {
  const out: Partial<ConnectionLimits> = {};
  const total = count('--max-connections', o.maxConnections);
  const perAddress = count('--max-connections-per-address', o.maxConnectionsPerAddress);
  if (total !== undefined) out.total = total;
  if (perAddress !== undefined) out.perAddress = perAddress;
  return out;
}
