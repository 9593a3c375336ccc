import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import type { Service } from './harness/processes.js';
import { makeTlsFiles, startDirectory, type Directory, type TlsFiles } from './harness/slapd.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

/**
 * Directory activation over TLS, against an OpenLDAP provider and replica that serve nothing
 * without it (security tls=1): StartTLS on ldap:// and LDAPS, the server certificate checked
 * against the CA given, and replication itself over StartTLS.
 */
describe('directory activation over StartTLS and LDAPS (OpenLDAP with security tls=1)', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-ldaps-');
  let clock: TestClockFile;
  let tls: TlsFiles;
  let dir: Directory;
  let world: AuthorityWorld;
  let authority: Service;
  const pw = (name: string, text: string) => {
    const path = join(tmp.path, `${name}.pw`);
    writeFileSync(path, text, { mode: 0o600 });
    return path;
  };

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 28, 9));
    tls = makeTlsFiles(join(tmp.path, 'tls'));
    dir = await startDirectory(join(tmp.path, 'ldap'), { tls });
    const admin = new Client({ url: dir.provider.ldapsUrl!, tlsOptions: { ca: readFileSync(tls.ca) } });
    await admin.bind(dir.admin.dn, dir.admin.password);
    const s = dir.suffix;
    for (const [dn, attrs] of [
      [s, { objectClass: ['dcObject', 'organization'], o: 'Example', dc: 'example' }],
      [`ou=people,${s}`, { objectClass: 'organizationalUnit', ou: 'people' }],
      [`ou=computers,${s}`, { objectClass: 'organizationalUnit', ou: 'computers' }],
      [`ou=groups,${s}`, { objectClass: 'organizationalUnit', ou: 'groups' }],
      [`cn=dirops,ou=people,${s}`, { objectClass: 'inetOrgPerson', cn: 'dirops', sn: 'Ops', userPassword: 'opspw' }],
      [
        `cn=volact-admins,ou=groups,${s}`,
        { objectClass: 'groupOfNames', cn: 'volact-admins', member: `cn=dirops,ou=people,${s}` },
      ],
      [
        `cn=pc1,ou=computers,${s}`,
        { objectClass: ['device', 'simpleSecurityObject'], cn: 'pc1', userPassword: 'pc1pw' },
      ],
      [`cn=Services,${s}`, { objectClass: 'volactContainer', cn: 'Services' }],
      [`cn=volact,cn=Services,${s}`, { objectClass: 'volactContainer', cn: 'volact' }],
    ] as [string, Record<string, string | string[]>][]) {
      await admin.add(dn, attrs);
    }
    await admin.unbind();
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
  });

  after(async () => {
    await authority?.stop();
    await dir?.stop();
    tmp.cleanup();
  });

  it('plain LDAP is refused by this server, so everything below went over TLS', async () => {
    const c = new Client({ url: dir.provider.url, timeout: 5000 });
    await assert.rejects(
      c.bind(`cn=pc1,ou=computers,${dir.suffix}`, 'pc1pw'),
      (e: { code?: number }) => e.code === 13,
      'confidentiality required',
    );
    await c.unbind();
  });

  it('an administrator creates an object over LDAPS; a member reads it over StartTLS, from the provider and the replica', async () => {
    const ws = join(tmp.path, 'admin');
    assert.equal(
      (
        await volact(
          ['client', 'trust', world.rootPub, '--state', ws, '--authority', `http://127.0.0.1:${authority.port}`],
          clock.env(),
        )
      ).code,
      0,
    );
    const made = await volact(
      [
        'slmgr',
        '--state',
        ws,
        '--json',
        '--ldap-url',
        dir.provider.ldapsUrl!,
        '--ldap-ca',
        tls.ca,
        '--ldap-base',
        dir.suffix,
        '--bind-dn',
        `cn=dirops,ou=people,${dir.suffix}`,
        '--password-file',
        pw('ops', 'opspw'),
        '-ad-activation-online',
        await world.issueHostKey('server-2026'),
        'tls-office',
      ],
      clock.env(),
    );
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.equal(made.json.server, dir.provider.ldapsUrl);

    const pc = join(tmp.path, 'pc1');
    assert.equal((await volact(['client', 'trust', world.rootPub, '--state', pc], clock.env())).code, 0);
    assert.equal(
      (await volact(['slmgr', '--state', pc, '-ipk', world.setupKeys['server-standard']!], clock.env())).code,
      0,
    );
    const join_ = (urls: string, extra: string[] = []) =>
      volact(
        [
          'client',
          'directory',
          '--state',
          pc,
          '--json',
          '--url',
          urls,
          '--base',
          dir.suffix,
          '--bind-dn',
          `cn=pc1,ou=computers,${dir.suffix}`,
          '--password-file',
          pw('pc1', 'pc1pw'),
          '--check',
          ...extra,
        ],
        clock.env(),
      );
    // without the CA the server's certificate is not trusted, and nothing falls back to plain LDAP
    const untrusted = await join_(dir.provider.url);
    assert.equal(untrusted.json.error.code, 'DIRECTORY_TLS_FAILED', untrusted.stdout);
    const checked = await join_(dir.provider.url, ['--ca', tls.ca]);
    assert.equal(checked.code, 0, checked.stdout);
    assert.equal(checked.json.check.tls, true, 'StartTLS');
    assert.deepEqual(checked.json.check.objects, ['tls-office']);
    const ato = await volact(['slmgr', '--state', pc, '--json', '-ato'], clock.env());
    assert.equal(ato.json.outcome, 'directoryActivated', ato.stdout);

    // the replica (replicating over StartTLS itself) serves the member over StartTLS too
    const end = Date.now() + 15_000;
    let fromReplica;
    for (;;) {
      await join_(dir.consumer.url, ['--ca', tls.ca]);
      fromReplica = await volact(['slmgr', '--state', pc, '--json', '-ato'], clock.env());
      if (fromReplica.json.outcome === 'directoryRenewed' || Date.now() > end) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.equal(fromReplica.json.outcome, 'directoryRenewed', fromReplica.stdout);
    assert.equal(fromReplica.json.server, dir.consumer.url);
  });
});
