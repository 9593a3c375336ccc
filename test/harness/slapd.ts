import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { track } from './children.js';
import { freePort, systemBinary } from './ports.js';

/**
 * Real OpenLDAP for the tests: a provider and a read-only consumer replica kept in sync by
 * syncrepl, both on free loopback ports, with volact's schema and ACLs (ldap/ in the repository).
 */
export type Slapd = {
  url: string;
  port: number;
  ldapsUrl: string | null;
  log: () => string;
  stop: () => Promise<void>;
};
export type Directory = {
  suffix: string;
  admin: { dn: string; password: string };
  provider: Slapd;
  consumer: Slapd;
  stop: () => Promise<void>;
};

const REPO = new URL('../../../', import.meta.url).pathname;

/**
 * Runs slapd with these configuration arguments (-f FILE or -F DIR), listening on `listen`, and
 * waits until `port` on 127.0.0.1 accepts connections.
 */
export async function spawnSlapd(
  config: string[],
  listen: string[],
  port: number,
): Promise<{ log: () => string; stop: () => Promise<void> }> {
  let log = '';
  const child: ChildProcess = track(
    spawn(systemBinary('slapd', 'slapd ldap-utils'), [...config, '-h', listen.join(' '), '-d', '256'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  child.stdout!.on('data', (c: Buffer) => (log += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (log += c.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const deadline = Date.now() + 15_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (up) break;
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`slapd did not start\n${log}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    log: () => log,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

async function start(dir: string, conf: string, port: number, ldapsPort?: number): Promise<Slapd> {
  mkdirSync(join(dir, 'data'), { recursive: true });
  writeFileSync(join(dir, 'slapd.conf'), conf);
  const url = `ldap://127.0.0.1:${port}`;
  const ldapsUrl = ldapsPort ? `ldaps://127.0.0.1:${ldapsPort}` : null;
  const slapd = await spawnSlapd(
    ['-f', join(dir, 'slapd.conf')],
    [`${url}/`, ...(ldapsUrl ? [`${ldapsUrl}/`] : [])],
    port,
  );
  return { url, port, ldapsUrl, ...slapd };
}

const schemas = ['core', 'cosine', 'inetorgperson', 'nis'].map((s) => `include /etc/ldap/schema/${s}.schema`);

/**
 * Starts the provider (with the syncprov overlay) and a consumer that replicates the whole suffix
 * and refers writes to the provider. `withSchema: false` leaves volact's schema out, for the
 * "schema missing" tests.
 */
export type TlsFiles = { ca: string; cert: string; key: string };

/** A CA and a server certificate for 127.0.0.1 and localhost, made with openssl (PEM paths). */
export function makeTlsFiles(dir: string): TlsFiles {
  mkdirSync(dir, { recursive: true });
  const f = (n: string) => join(dir, n);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
    '-days',
    '2',
    '-subj',
    '/CN=volact test CA',
  );
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    f('server.key'),
    '-out',
    f('server.csr'),
    '-subj',
    '/CN=localhost',
  );
  writeFileSync(f('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl(
    'x509',
    '-req',
    '-in',
    f('server.csr'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-out',
    f('server.pem'),
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
  );
  return { ca: f('ca.pem'), cert: f('server.pem'), key: f('server.key') };
}

export async function startDirectory(
  dir: string,
  opts: { suffix?: string; withSchema?: boolean; tls?: TlsFiles } = {},
): Promise<Directory> {
  const suffix = opts.suffix ?? 'dc=example,dc=test';
  const admin = { dn: `cn=admin,${suffix}`, password: 'adminpw' };
  const withSchema = opts.withSchema ?? true;
  const acl = readFileSync(join(REPO, 'ldap', 'volact-acl.conf'), 'utf8').replaceAll('SUFFIX', suffix);
  const [providerPort, consumerPort] = [await freePort(), await freePort()];
  const common = (d: string) => [
    ...schemas,
    ...(withSchema ? [`include ${join(REPO, 'ldap', 'volact.schema')}`] : []),
    'modulepath /usr/lib/ldap',
    'moduleload back_mdb',
    'moduleload syncprov',
    'moduleload ppolicy',
    // TLS (StartTLS and LDAPS) when asked; then nothing is served without it (security tls=1)
    ...(opts.tls
      ? [
          `TLSCACertificateFile ${opts.tls.ca}`,
          `TLSCertificateFile ${opts.tls.cert}`,
          `TLSCertificateKeyFile ${opts.tls.key}`,
          'security tls=1',
        ]
      : []),
    `pidfile ${d}/slapd.pid`,
    `argsfile ${d}/slapd.args`,
    'database mdb',
    'maxsize 104857600',
    `suffix "${suffix}"`,
    `rootdn "${admin.dn}"`,
    `directory ${d}/data`,
    'index objectClass,entryUUID,entryCSN eq',
    // a small size limit, as busy directories set: more entries come only through paged searches
    'limits users size.soft=50 size.hard=50 size.prtotal=unlimited',
  ];
  // the password policy overlay: an administrator disables an account with pwdAccountLockedTime
  const ppolicy = ['overlay ppolicy', `ppolicy_default "cn=default,ou=policies,${suffix}"`];
  const providerDir = join(dir, 'provider');
  const provider = await start(
    providerDir,
    [
      ...common(providerDir),
      `rootpw ${admin.password}`,
      acl,
      'access to * by self write by users read by * auth',
      'overlay syncprov',
      'syncprov-checkpoint 100 1',
      ...ppolicy,
    ].join('\n') + '\n',
    providerPort,
    opts.tls ? await freePort() : undefined,
  );
  const consumerDir = join(dir, 'consumer');
  const consumer = await start(
    consumerDir,
    [
      ...common(consumerDir),
      `syncrepl rid=001 provider=ldap://127.0.0.1:${providerPort} bindmethod=simple binddn="${admin.dn}" credentials=${admin.password} searchbase="${suffix}" type=refreshAndPersist retry="1 +"${opts.tls ? ` starttls=critical tls_cacert=${opts.tls.ca} tls_reqcert=demand` : ''}`,
      `updateref ldap://127.0.0.1:${providerPort}`,
      acl,
      'access to * by self read by users read by * auth',
      ...ppolicy,
    ].join('\n') + '\n',
    consumerPort,
  );
  return {
    suffix,
    admin,
    provider,
    consumer,
    stop: async () => {
      await consumer.stop();
      await provider.stop();
    },
  };
}
