import { VolactError } from '@volact/protocol';

/** Parses an ldap:// or ldaps:// URL with nothing but a host and a port (1 to 65535). */
export function checkLdapUrl(url: string): URL {
  const bad = () =>
    new VolactError('USAGE', { detail: `${url} is not an LDAP URL (ldap://HOST[:PORT] or ldaps://HOST[:PORT])` });
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw bad();
  }
  if (
    (parsed.protocol !== 'ldap:' && parsed.protocol !== 'ldaps:') ||
    !parsed.hostname ||
    (parsed.pathname !== '' && parsed.pathname !== '/') ||
    parsed.search ||
    parsed.hash ||
    parsed.username ||
    parsed.password
  )
    throw bad();
  if (parsed.port !== '' && (Number(parsed.port) < 1 || Number(parsed.port) > 65535)) throw bad();
  return parsed;
}
