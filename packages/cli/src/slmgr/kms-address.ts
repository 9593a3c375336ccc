import { isIP } from 'node:net';
import { VolactError } from '@volact/protocol';

/** `-skms` forms: host, host:port, :port, [v6]:port, [v6], bare v6. */
export function parseKms(spec: string): { host: string | null; port: number | null } {
  const bad = () => new VolactError('USAGE', { detail: `${spec} is not HOST, HOST:PORT, :PORT or [IPv6]:PORT` });
  let host: string | null;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (isIP(host) !== 6) throw bad();
  } else if ((spec.match(/:/g) ?? []).length >= 2) {
    // a bare IPv6 address (slmgr wants brackets for one with a port), e.g. ::1
    if (isIP(spec) !== 6) throw bad();
    host = spec;
  } else if (spec.startsWith(':')) {
    host = null;
    portText = spec.slice(1);
  } else {
    const [h, p] = spec.split(':');
    host = h!;
    portText = p;
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) throw bad();
  }
  let port: number | null = null;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535)
      throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'port', min: 1, max: 65535, value: portText });
  }
  if (host === null && port === null) throw bad();
  return { host, port };
}
