import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { Client } from 'ldapts';
import { VolactError } from '@volact/protocol';
import { checkLdapUrl } from './ldap-url.js';

/** Where and how to reach the directory: servers in order (any replica), the suffix, the account. */
export type DirectoryTarget = {
  /** ldap:// (StartTLS when the server offers it) or ldaps:// URLs, tried in order. */
  urls: string[];
  /** The directory's suffix (base DN), e.g. dc=example,dc=com. */
  base: string;
  bindDn: string;
  password: string;
  /** PEM of the CA that signed the servers' certificates (default: the system's CAs). */
  ca?: string;
  /** Send the password in clear to a server off loopback that offers no TLS. */
  allowPlainBind?: boolean;
  timeoutMs?: number;
};

/** A bound connection to one directory server. */
export type DirectorySession = {
  url: string;
  bindDn: string;
  client: Client;
  /** True when the connection is encrypted (LDAPS or StartTLS). */
  tls: boolean;
  /** Encrypted, or to loopback: its answers may take an activation away. */
  trusted: boolean;
  /** The server's address as connected. */
  address: string;
  /** Referral URLs in the last answer received (ldapts does not surface them). */
  referrals: () => string[];
  close: () => Promise<void>;
};

const NETWORK_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

/** 127.0.0.0/8 and ::1 (also as IPv4-mapped): where a password in clear never leaves the machine. */
export function isLoopback(address: string): boolean {
  const a = address.replace(/^::ffff:/i, '');
  if (isIP(a) === 4) return a.startsWith('127.');
  return a === '::1';
}

/** A password may be sent over this connection: encrypted, to loopback, or when the operator forced it. */
export function plainBindAllowed(encrypted: boolean, remoteAddress: string, forced: boolean): boolean {
  return encrypted || isLoopback(remoteAddress) || forced;
}

/** The result code of an LDAP error answer, or undefined for a transport error. */
export function resultCode(err: unknown): number | undefined {
  const code = (err as { code?: unknown })?.code;
  return typeof code === 'number' ? code : undefined;
}

function networkFailure(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown };
  return (
    (typeof e?.code === 'string' && NETWORK_ERRORS.has(e.code)) ||
    /timeout|closed|ECONNREFUSED/i.test(String(e?.message ?? ''))
  );
}

const describe = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);

/**
 * Watches the bytes a socket receives, to read referral URLs out of LDAP results: an LDAPResult
 * ends with referral [3] SEQUENCE OF LDAPURL, each an OCTET STRING (tag 0x04) of ldap(s)://….
 */
class Tap {
  address = '';
  private last = Buffer.alloc(0);
  watch<S extends Socket>(socket: S): S {
    socket.once('connect', () => (this.address = socket.remoteAddress ?? this.address));
    socket.once('secureConnect', () => (this.address = socket.remoteAddress ?? this.address));
    socket.on('data', (chunk: Buffer) => {
      this.last = Buffer.concat([this.last, chunk]).subarray(-65536);
    });
    return socket;
  }
  reset(): void {
    this.last = Buffer.alloc(0);
  }
  referrals(): string[] {
    return referralUrls(this.last);
  }
}

/** ldap(s):// URLs framed as OCTET STRINGs (tag 0x04; BER short or long length) in received bytes. */
export function referralUrls(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const m of bytes.toString('latin1').matchAll(/ldaps?:\/\//g)) {
    const i = m.index!;
    let len = -1;
    if (i >= 2 && bytes[i - 2] === 0x04 && bytes[i - 1]! < 0x80) len = bytes[i - 1]!;
    else if (i >= 3 && bytes[i - 3] === 0x04 && bytes[i - 2] === 0x81) len = bytes[i - 1]!;
    else if (i >= 4 && bytes[i - 4] === 0x04 && bytes[i - 3] === 0x82) len = bytes.readUInt16BE(i - 2);
    if (len > 0 && i + len <= bytes.length) out.push(bytes.subarray(i, i + len).toString('latin1'));
  }
  return out;
}

/**
 * Connects and binds to one server. ldaps:// is TLS from the start; on ldap:// StartTLS is asked
 * for, and when the server does not offer it the password goes in clear only to a loopback
 * address, or when the operator forced it.
 */
async function openSession(url: string, t: DirectoryTarget): Promise<DirectorySession> {
  const parsed = checkLdapUrl(url);
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const tap = new Tap();
  const tlsOptions: ConnectionOptions = {
    ...(t.ca ? { ca: t.ca } : {}),
    ...(isIP(host) ? {} : { servername: host }),
    rejectUnauthorized: true,
  };
  const timeout = t.timeoutMs ?? 5000;
  const client = new Client({
    url: `${parsed.protocol}//${parsed.host}`,
    timeout,
    connectTimeout: timeout,
    // ldapts starts TLS on ldap:// by itself when given tlsOptions; StartTLS is asked for below instead
    ...(parsed.protocol === 'ldaps:' ? { tlsOptions } : {}),
    strictDN: false,
    createConnection: ((...args: unknown[]) =>
      tap.watch((netConnect as (...a: unknown[]) => Socket)(...args))) as typeof netConnect,
    createSecureConnection: ((...args: unknown[]) =>
      tap.watch((tlsConnect as (...a: unknown[]) => Socket)(...args))) as unknown as typeof tlsConnect,
  });
  const close = async () => {
    await client.unbind().catch(() => undefined);
  };
  const unreachable = (err: unknown) =>
    new VolactError('DIRECTORY_UNREACHABLE', { detail: `${url}: ${describe(err)}` });
  let secure = parsed.protocol === 'ldaps:';
  try {
    if (!secure) {
      try {
        // the certificate is checked against the URL's host (an IP address needs an IP SAN);
        // ldapts waits for the handshake without a limit, so the same timeout applies here
        let timer: NodeJS.Timeout | undefined;
        const stalled = new Promise<never>(
          (_, reject) =>
            (timer = setTimeout(
              () => reject(Object.assign(new Error('the StartTLS handshake timed out'), { code: 'ETIMEDOUT' })),
              timeout,
            )),
        );
        try {
          await Promise.race([client.startTLS({ ...tlsOptions, host }), stalled]);
        } finally {
          clearTimeout(timer);
        }
        secure = true;
      } catch (err) {
        // "unsupported extended operation" (2; OpenLDAP) or "unavailable" (52; a server with no
        // certificate): StartTLS is not offered. Anything else, or any failure when a CA was
        // given (TLS is expected then), is not taken as a reason to go on in clear.
        const code = resultCode(err);
        if ((code !== 2 && code !== 52) || t.ca)
          throw code === undefined
            ? err
            : new Error(
                `the server answered StartTLS with LDAP result ${code}${describe(err) ? ` (${describe(err)})` : ''}`,
              );
      }
    }
  } catch (err) {
    await close();
    if (networkFailure(err)) throw unreachable(err);
    throw new VolactError('DIRECTORY_TLS_FAILED', { url, detail: describe(err) });
  }
  if (!plainBindAllowed(secure, tap.address, Boolean(t.allowPlainBind))) {
    await close();
    throw new VolactError('DIRECTORY_PLAIN_BIND_REFUSED', { dn: t.bindDn, url, address: tap.address || host });
  }
  // an answer is only believed to take an activation away when nobody on the path could forge it
  const trusted = secure || isLoopback(tap.address);
  try {
    await client.bind(t.bindDn, t.password);
  } catch (err) {
    await close();
    const code = resultCode(err);
    if (code === undefined)
      throw networkFailure(err)
        ? unreachable(err)
        : new VolactError('DIRECTORY_TLS_FAILED', { url, detail: describe(err) });
    if (bindRefused(code, describe(err)) && trusted)
      throw new VolactError('DIRECTORY_BIND_REFUSED', {
        url,
        dn: t.bindDn,
        detail: `LDAP result ${code}${describe(err) ? `: ${describe(err)}` : ''}`,
      });
    // busy, unavailable, a locked or expired password, an answer in clear off loopback: this server, not the account
    throw new VolactError('DIRECTORY_UNREACHABLE', {
      detail: `${url} answered the bind of ${t.bindDn} with LDAP result ${code}${describe(err) ? ` (${describe(err)})` : ''}${trusted ? '' : ' over an unencrypted connection'}`,
    });
  }
  // ldapts reconnects by itself before an operation on a dropped connection, without binding
  // again or StartTLS: every operation first checks the connection is still the bound one
  const guarded = new Proxy(client, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target) as unknown;
      if (typeof value !== 'function') return value;
      if (!GUARDED.has(String(prop))) return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        if (!target.isBound) return Promise.reject(unreachable(new Error('the connection was lost')));
        tap.reset(); // referrals are read from this operation's answer only
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return {
    url,
    bindDn: t.bindDn,
    client: guarded,
    tls: secure,
    trusted,
    address: tap.address,
    referrals: () => tap.referrals(),
    close,
  };
}

const GUARDED = new Set(['search', 'searchPaginated', 'add', 'del', 'modify', 'modifyDN', 'compare', 'exop']);

/**
 * Whether a bind failure means the account itself is refused (removed, disabled, wrong
 * password): invalid credentials (49), except Active Directory's sub-codes for a locked account
 * (775) or a password that expired or must be reset (532, 773), which any user can provoke or
 * which the machine fixes itself; those are treated as a failure of the server, not of the account.
 */
export function bindRefused(code: number, message: string): boolean {
  if (code !== 49) return false;
  const sub = /\bdata ([0-9a-f]{3})\b/i.exec(message)?.[1]?.toLowerCase();
  return !(sub && ['775', '532', '773'].includes(sub));
}

/**
 * Binds to the first server that answers. A refused account ends the search at once (every
 * replica knows the account); servers that cannot be reached, or not safely, are skipped.
 */
export async function connectDirectory(t: DirectoryTarget): Promise<DirectorySession> {
  if (t.urls.length === 0) throw new VolactError('DIRECTORY_NOT_CONFIGURED');
  if (!t.password)
    throw new VolactError('USAGE', {
      detail: `no password for ${t.bindDn}: an empty password is an anonymous bind, which sees no activation objects`,
    });
  const problems: VolactError[] = [];
  for (const url of t.urls) {
    try {
      return await openSession(url, t);
    } catch (err) {
      if (!(err instanceof VolactError) || err.code === 'DIRECTORY_BIND_REFUSED') throw err;
      problems.push(err); // this server (or its URL) is the problem: try the next
    }
  }
  // a configuration problem (TLS, clear password) says more than "unreachable"
  const config = problems.find((p) => p.code !== 'DIRECTORY_UNREACHABLE');
  if (config) throw config;
  throw new VolactError('DIRECTORY_UNREACHABLE', { detail: problems.map((p) => p.params.detail).join('; ') });
}
