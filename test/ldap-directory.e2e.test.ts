import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Attribute, Change, Client } from 'ldapts';
import { track } from './harness/children.js';
import { CLI, TestClockFile, tempDir, volact, type CliResult } from './harness/cli.js';
import { activationBody, post } from './harness/machines.js';
import type { Service } from './harness/processes.js';
import { freePort } from './harness/ports.js';
import { makeTlsFiles, startDirectory, type Directory } from './harness/slapd.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const DAY = 86_400_000;

/** `volact agent` on a state directory; its JSON outcome lines as they come. */
function startAgent(state: string, env: Record<string, string>) {
  const child = track(
    spawn(process.execPath, [CLI, 'agent', '--state', state], {
      env: { ...process.env, NODE_ENV: 'test', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr.on('data', (b: Buffer) => (out += b.toString()));
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const lines = () =>
    out
      .split('\n')
      .filter((l) => l.includes('"outcome"'))
      .map((l) => JSON.parse(l) as { outcome: string; host?: string; code?: string });
  return {
    output: () => out,
    /** Waits (up to 20 s) until at least n outcomes were logged, and returns them all. */
    outcomes: async (n: number) => {
      const end = Date.now() + 20_000;
      while (lines().length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
      assert.ok(lines().length >= n, `the agent logged ${lines().length} outcomes, expected ${n}:\n${out}`);
      return lines();
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
const container = (suffix: string) => `cn=Activation Objects,cn=volact,cn=Services,${suffix}`;

/** The accounts every test directory has: an admin group member, an ordinary user, machine accounts. */
async function populate(dir: Directory, machines: string[], opts: { containers?: boolean } = {}): Promise<void> {
  const admin = new Client({ url: dir.provider.url, timeout: 5000, connectTimeout: 5000 });
  await admin.bind(dir.admin.dn, dir.admin.password);
  const s = dir.suffix;
  const dc = /^dc=([^,]+)/.exec(s)![1]!;
  const entries: [string, Record<string, string | string[]>][] = [
    [s, { objectClass: ['dcObject', 'organization'], o: 'Example', dc }],
    [`ou=people,${s}`, { objectClass: 'organizationalUnit', ou: 'people' }],
    [`ou=computers,${s}`, { objectClass: 'organizationalUnit', ou: 'computers' }],
    [`ou=groups,${s}`, { objectClass: 'organizationalUnit', ou: 'groups' }],
    [`ou=policies,${s}`, { objectClass: 'organizationalUnit', ou: 'policies' }],
    [
      `cn=default,ou=policies,${s}`,
      { objectClass: ['device', 'pwdPolicy'], cn: 'default', pwdAttribute: 'userPassword', pwdLockout: 'TRUE' },
    ],
    [`cn=dirops,ou=people,${s}`, { objectClass: 'inetOrgPerson', cn: 'dirops', sn: 'Ops', userPassword: 'opspw' }],
    [`cn=alice,ou=people,${s}`, { objectClass: 'inetOrgPerson', cn: 'alice', sn: 'User', userPassword: 'alicepw' }],
    [
      `cn=volact-admins,ou=groups,${s}`,
      { objectClass: 'groupOfNames', cn: 'volact-admins', member: `cn=dirops,ou=people,${s}` },
    ],
    ...machines.map((m): [string, Record<string, string | string[]>] => [
      `cn=${m},ou=computers,${s}`,
      { objectClass: ['device', 'simpleSecurityObject'], cn: m, userPassword: `${m}pw` },
    ]),
    ...(opts.containers === false
      ? []
      : ([
          [`cn=Services,${s}`, { objectClass: 'volactContainer', cn: 'Services' }],
          [`cn=volact,cn=Services,${s}`, { objectClass: 'volactContainer', cn: 'volact' }],
        ] as [string, Record<string, string>][])),
  ];
  for (const [dn, attrs] of entries) await admin.add(dn, attrs);
  await admin.unbind();
}

/**
 * Directory activation against real OpenLDAP (a provider and a read-only syncrepl consumer): the
 * schema and ACLs, creating objects with the CLI (online and with offline codes), members
 * activating from them, and every refusal the issue lists.
 */
describe('directory activation over LDAP (OpenLDAP provider and read-only replica)', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-ldap-');
  let clock: TestClockFile;
  let dir: Directory;
  let world: AuthorityWorld;
  let authority: Service;
  let host: Service;
  let hostKey: string;
  const cleanup: (() => Promise<void>)[] = [];
  const files: Record<string, string> = {};
  const file = (name: string, text: string) => {
    files[name] = join(tmp.path, name);
    writeFileSync(files[name]!, text, { mode: 0o600 });
    return files[name]!;
  };
  const admin = join(tmp.path, 'admin-workstation');
  /** slmgr on the directory administrator's workstation, bound as cn=dirops (a volact-admins member). */
  const ops = (url: string, ...args: string[]) =>
    volact(
      [
        'slmgr',
        '--state',
        admin,
        '--json',
        '--ldap-url',
        url,
        '--ldap-base',
        dir.suffix,
        '--bind-dn',
        `cn=dirops,ou=people,${dir.suffix}`,
        '--password-file',
        files.ops!,
        ...args,
      ],
      clock.env(),
    );
  const keyUsage = async () => {
    const rows = (await volact(['authority', 'host-keys', '--dir', world.dir, '--json'], clock.env())).json as {
      key: string;
      hostsUsed: number;
      hostsLimit: number;
      activationsUsed: number;
      activationsLimit: number;
    }[];
    return rows.find((r) => r.key.endsWith(hostKey.slice(-5)))!;
  };

  let machines = 0;
  /** A member machine: a server setup key, joined to the directory with its machine account. */
  const member = async (
    account: string,
    urls: string[],
    opts: { env?: Record<string, string>; password?: string; bindDn?: string; edition?: string } = {},
  ) => {
    const state = join(tmp.path, `pc-${++machines}-${account}`);
    const env = opts.env ?? clock.env();
    const slmgr = (...args: string[]): Promise<CliResult> =>
      volact(['slmgr', '--state', state, '--json', ...args], env);
    assert.equal((await volact(['client', 'trust', world.rootPub, '--state', state], env)).code, 0);
    assert.equal((await slmgr('-ipk', world.setupKeys[opts.edition ?? 'server-standard']!)).code, 0);
    const pw = file(`${account}-${machines}.pw`, opts.password ?? `${account}pw`);
    const joined = await volact(
      [
        'client',
        'directory',
        '--state',
        state,
        '--json',
        '--ldap-url',
        urls.join(','),
        '--ldap-base',
        dir.suffix,
        '--bind-dn',
        opts.bindDn ?? `cn=${account},ou=computers,${dir.suffix}`,
        '--password-file',
        pw,
      ],
      env,
    );
    assert.equal(joined.code, 0, joined.stdout + joined.stderr);
    return { state, slmgr, env };
  };

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 28, 9));
    dir = await startDirectory(join(tmp.path, 'ldap'));
    cleanup.push(() => dir.stop());
    await populate(dir, ['pc1', 'pc2', 'pc3', 'pc4', 'pc5', 'pc6']);
    file('ops', 'opspw\n');
    world = await makeAuthority(tmp.path, clock.env());
    authority = await world.serve();
    cleanup.push(() => authority.stop());
    hostKey = await world.issueHostKey('server-2026');
    assert.equal(
      (
        await volact(
          ['client', 'trust', world.rootPub, '--state', admin, '--authority', `http://127.0.0.1:${authority.port}`],
          clock.env(),
        )
      ).code,
      0,
    );
    // an activation host with the server threshold (5) met, for the fallback and precedence tests
    const hostDir = join(tmp.path, 'kms');
    host = await startHost(hostDir, {
      root: world.rootPub,
      authority: `http://127.0.0.1:${authority.port}`,
      env: clock.env(),
    });
    cleanup.push(() => host.stop());
    assert.equal(
      (
        await volact(
          ['slmgr', '--host', hostDir, '--json', '-ipk', await world.issueHostKey('server-2026')],
          clock.env(),
        )
      ).code,
      0,
    );
    assert.equal((await volact(['slmgr', '--host', hostDir, '--json', '-ato'], clock.env())).code, 0);
    for (let i = 0; i < 5; i++)
      assert.equal(
        (
          await post(
            host.port,
            '/v1/activate',
            JSON.stringify(activationBody(world.setupKeys['server-standard']!, clock.t)),
          )
        ).status,
        200,
      );
  });

  after(async () => {
    for (const c of cleanup.reverse()) await c().catch(() => undefined);
    tmp.cleanup();
  });

  const objectsSeenBy = async (url: string, dn?: string, password?: string) => {
    const c = new Client({ url, timeout: 5000, connectTimeout: 5000 });
    try {
      if (dn) await c.bind(dn, password!);
      const { searchEntries } = await c.search(container(dir.suffix), {
        scope: 'one',
        filter: '(objectClass=volactActivationObject)',
        attributes: ['cn'],
      });
      return searchEntries.map((e) => String(e.cn));
    } catch (err) {
      if ((err as { code?: number }).code === 32) return []; // hidden by the ACL
      throw err;
    } finally {
      await c.unbind();
    }
  };
  const replicated = async (check: () => Promise<boolean>, what: string) => {
    const end = Date.now() + 15_000;
    while (!(await check().catch(() => false))) {
      if (Date.now() > end) assert.fail(`the replica did not catch up: ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  it('refuses before spending anything: no schema, a read-only replica, a long name, a wrong key class', async () => {
    const bare = await startDirectory(join(tmp.path, 'bare'), { withSchema: false, suffix: 'dc=bare,dc=test' });
    cleanup.push(() => bare.stop());
    const c = new Client({ url: bare.provider.url });
    await c.bind(bare.admin.dn, bare.admin.password);
    await c.add('dc=bare,dc=test', { objectClass: ['dcObject', 'organization'], o: 'Bare', dc: 'bare' });
    await c.unbind();
    const before = await keyUsage();
    const pw = file('bare-admin', bare.admin.password);
    const noSchema = await volact(
      [
        'slmgr',
        '--state',
        admin,
        '--json',
        '--ldap-url',
        bare.provider.url,
        '--ldap-base',
        'dc=bare,dc=test',
        '--bind-dn',
        bare.admin.dn,
        '--password-file',
        pw,
        '-ad-activation-online',
        hostKey,
        'office',
      ],
      clock.env(),
    );
    assert.equal(noSchema.json.error.code, 'DIRECTORY_SCHEMA_MISSING', noSchema.stdout);
    assert.match(noSchema.json.error.fix, /volact\.ldif/);
    const listNoSchema = await volact(
      [
        'slmgr',
        '--state',
        admin,
        '--json',
        '--ldap-url',
        bare.provider.url,
        '--ldap-base',
        'dc=bare,dc=test',
        '--bind-dn',
        bare.admin.dn,
        '--password-file',
        pw,
        '-ao-list',
      ],
      clock.env(),
    );
    assert.equal(listNoSchema.json.error.code, 'DIRECTORY_SCHEMA_MISSING');

    await replicated(async () => {
      const c = new Client({ url: dir.consumer.url, timeout: 2000 });
      await c.bind(`cn=dirops,ou=people,${dir.suffix}`, 'opspw');
      await c.unbind();
      return true;
    }, 'the accounts');
    const onReplica = await ops(dir.consumer.url, '-ad-activation-online', hostKey, 'office');
    assert.equal(onReplica.json.error.code, 'DIRECTORY_READ_ONLY', onReplica.stdout);
    assert.equal(onReplica.json.error.params.writable, dir.provider.url, 'the error names the writable server');
    assert.equal(onReplica.code, 5);

    const long = await ops(dir.provider.url, '-ad-activation-online', hostKey, 'x'.repeat(41));
    assert.equal(long.json.error.code, 'DIRECTORY_OBJECT_NAME');
    assert.match(long.json.error.message, /41 characters; at most 40/);
    const setupKey = await ops(
      dir.provider.url,
      '-ad-activation-online',
      world.setupKeys['server-standard']!,
      'office',
    );
    assert.equal(setupKey.json.error.code, 'KEY_WRONG_CLASS');
    assert.deepEqual(await keyUsage(), before, 'no host slot and no activation used');
  });

  it('an object signed by another publisher is listed as not valid and activates nobody', async () => {
    const other = await makeAuthority(join(tmp.path, 'other'), clock.env());
    const otherSvc = await other.serve();
    cleanup.push(() => otherSvc.stop());
    const forger = join(tmp.path, 'forger');
    await volact(
      ['client', 'trust', other.rootPub, '--state', forger, '--authority', `http://127.0.0.1:${otherSvc.port}`],
      clock.env(),
    );
    const forged = await volact(
      [
        'slmgr',
        '--state',
        forger,
        '--json',
        '--ldap-url',
        dir.provider.url,
        '--ldap-base',
        dir.suffix,
        '--bind-dn',
        `cn=dirops,ou=people,${dir.suffix}`,
        '--password-file',
        files.ops!,
        '-ad-activation-online',
        await other.issueHostKey('server-2026'),
        'forged',
      ],
      clock.env(),
    );
    assert.equal(forged.code, 0, forged.stdout);
    const list = await ops(dir.provider.url, '-ao-list');
    assert.equal(list.code, 7, 'an invalid object makes -ao-list fail');
    assert.deepEqual(
      list.json.objects.map((o: { name: string; status: string }) => [o.name, o.status]),
      [['forged', 'CHAIN_UNTRUSTED_ROOT']],
    );
    const pc = await member('pc6', [dir.provider.url]);
    assert.equal((await pc.slmgr('-act-type', '1')).code, 0);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.error.code, 'DIRECTORY_NO_OBJECT', ato.stdout);
    assert.match(ato.json.error.message, /forged: CHAIN_UNTRUSTED_ROOT/);
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'initialGrace');
    assert.equal((await ops(dir.provider.url, '-del-ao', 'forged')).code, 0);
  });

  it('creates an object on the writable server with one activation of the host key; a rerun spends nothing', async () => {
    const before = await keyUsage();
    const made = await ops(dir.provider.url, '-ad-activation-online', hostKey, 'office-2026');
    assert.equal(made.code, 0, made.stdout + made.stderr);
    assert.equal(made.json.dn, `cn=office-2026,${container(dir.suffix)}`);
    assert.equal(made.json.group, 'server-2026');
    assert.equal(made.json.offline, false);
    assert.deepEqual([made.json.activationsUsed, made.json.activationsLimit], [1, 10]);
    assert.deepEqual(
      [before.hostsUsed, before.hostsLimit, before.activationsUsed, before.activationsLimit],
      [0, 6, 0, 10],
    );
    const usage = await keyUsage();
    assert.deepEqual(
      [usage.hostsUsed, usage.hostsLimit, usage.activationsUsed, usage.activationsLimit],
      [1, 6, 1, 10],
      'the directory takes a host slot and one activation, like a host',
    );
    const again = await ops(dir.provider.url, '-ad-activation-online', hostKey, 'office-2026');
    assert.equal(again.json.error.code, 'DIRECTORY_OBJECT_EXISTS');
    assert.equal((await keyUsage()).activationsUsed, 1);
    const list = await ops(dir.provider.url, '-ao-list');
    assert.equal(list.code, 0);
    assert.deepEqual(
      list.json.objects.map((o: { name: string; status: string; group: string }) => [o.name, o.status, o.group]),
      [['office-2026', 'valid', 'server-2026']],
    );
    // directory ID: the suffix entry's entryUUID, as the server generated it
    const c = new Client({ url: dir.provider.url });
    await c.bind(dir.admin.dn, dir.admin.password);
    const { searchEntries } = await c.search(dir.suffix, { scope: 'base', attributes: ['entryUUID'] });
    await c.unbind();
    assert.equal(list.json.directoryId, String(searchEntries[0]!.entryUUID));
  });

  it('members activate from the object for 180 days, from the provider and from the read-only replica', async () => {
    const pc = await member('pc1', [dir.provider.url]);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.code, 0, ato.stdout);
    assert.equal(ato.json.outcome, 'directoryActivated');
    assert.equal(ato.json.object, 'office-2026');
    assert.equal(ato.json.validUntil, new Date(clock.t + 180 * DAY).toISOString());
    const dlv = await pc.slmgr('-dlv');
    assert.equal(dlv.json.licenseState, 'licensed');
    assert.equal(dlv.json.directory.object.name, 'office-2026');
    assert.equal(dlv.json.directory.object.dn, `cn=office-2026,${container(dir.suffix)}`);
    assert.equal(dlv.json.renewalMinutes, 7 * 24 * 60, 'read again every 7 days');
    const human = await volact(['slmgr', '--state', pc.state, '-dlv'], clock.env());
    assert.match(human.stdout, /Activation object name: office-2026/);
    assert.match(
      human.stdout,
      /Activation object DN: cn=office-2026,cn=Activation Objects,cn=volact,cn=Services,dc=example,dc=test/,
    );

    // the license file proves nothing elsewhere: copied to another member, or edited to last longer
    const other = await member('pc1', [dir.provider.url]);
    copyFileSync(join(pc.state, 'license.json'), join(other.state, 'license.json'));
    assert.equal(
      (await other.slmgr('-dli')).json.licenseState,
      'initialGrace',
      'a license copied from another machine',
    );
    const license = JSON.parse(readFileSync(join(pc.state, 'license.json'), 'utf8'));
    license.directory.validUntil += 365 * DAY;
    writeFileSync(join(pc.state, 'license.json'), JSON.stringify(license));
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'initialGrace', 'a license edited to last a year longer');
    license.directory.activatedAt += 365 * DAY;
    writeFileSync(join(pc.state, 'license.json'), JSON.stringify(license));
    assert.equal((await pc.slmgr('-dli')).json.licenseState, 'initialGrace', 'both times moved a year on');
    assert.equal((await pc.slmgr('-ato')).json.outcome, 'directoryActivated');

    await replicated(
      async () =>
        (await objectsSeenBy(dir.consumer.url, `cn=pc2,ou=computers,${dir.suffix}`, 'pc2pw')).includes('office-2026'),
      'the object',
    );
    const fromReplica = await member('pc2', [dir.consumer.url]);
    const r = await fromReplica.slmgr('-ato');
    assert.equal(r.json.outcome, 'directoryActivated', r.stdout);
    assert.equal(r.json.server, dir.consumer.url);
  });

  it('the agent reads the directory at its start and again every 7 days', async () => {
    const own = new TestClockFile(join(tmp.path, 'agent-clock'), clock.t);
    const pc = await member('pc2', [dir.provider.url], { env: own.env() });
    const agent = startAgent(pc.state, own.env());
    try {
      const [first] = await agent.outcomes(1);
      assert.equal(first!.outcome, 'directoryActivated', agent.output());
      own.advance(6 * DAY);
      await new Promise((r) => setTimeout(r, 7000)); // more than the agent's 5-second poll
      assert.equal((await agent.outcomes(1)).length, 1, `no read before 7 days:\n${agent.output()}`);
      own.advance(DAY + 60_000);
      const [, second] = await agent.outcomes(2);
      assert.equal(second!.outcome, 'directoryRenewed', agent.output());
      const dlv = await pc.slmgr('-dlv');
      assert.equal(dlv.json.validUntil, new Date(own.t + 180 * DAY).toISOString(), 'valid 180 days from the new read');
    } finally {
      await agent.stop();
    }
  });

  it('non-members are refused: anonymous and ordinary users read nothing; an empty password is not sent', async () => {
    assert.deepEqual(await objectsSeenBy(dir.provider.url), [], 'anonymous');
    assert.deepEqual(await objectsSeenBy(dir.consumer.url), [], 'anonymous on the replica');
    assert.deepEqual(
      await objectsSeenBy(dir.provider.url, `cn=alice,ou=people,${dir.suffix}`, 'alicepw'),
      [],
      'an ordinary user',
    );
    const alice = await member('alice', [dir.provider.url], {
      bindDn: `cn=alice,ou=people,${dir.suffix}`,
      password: 'alicepw',
    });
    assert.equal((await alice.slmgr('-act-type', 'directory')).code, 0);
    const ato = await alice.slmgr('-ato');
    assert.equal(ato.json.error.code, 'DIRECTORY_NO_OBJECT', ato.stdout);
    const state = join(tmp.path, 'anonymous');
    const empty = await volact(
      [
        'client',
        'directory',
        '--state',
        state,
        '--json',
        '--url',
        dir.provider.url,
        '--base',
        dir.suffix,
        '--bind-dn',
        `cn=pc1,ou=computers,${dir.suffix}`,
        '--password-file',
        file('empty', ''),
      ],
      clock.env(),
    );
    assert.equal(empty.json.error.code, 'USAGE');
    assert.match(empty.json.error.message, /anonymous bind/);
    // a CA given means TLS is expected: a server that does not offer it is not used in clear
    const tls = makeTlsFiles(join(tmp.path, 'tls'));
    const expectsTls = join(tmp.path, 'expects-tls');
    const withCa = await volact(
      [
        'client',
        'directory',
        '--state',
        expectsTls,
        '--json',
        '--url',
        dir.provider.url,
        '--base',
        dir.suffix,
        '--bind-dn',
        `cn=pc1,ou=computers,${dir.suffix}`,
        '--password-file',
        file('pc1-ca', 'pc1pw'),
        '--ca',
        tls.ca,
        '--check',
      ],
      clock.env(),
    );
    assert.equal(withCa.json.error.code, 'DIRECTORY_TLS_FAILED', withCa.stdout);
    const wrong = await member('pc3', [dir.provider.url], { password: 'not-the-password' });
    await wrong.slmgr('-act-type', '1');
    const refused = await wrong.slmgr('-ato');
    assert.equal(refused.json.error.code, 'DIRECTORY_BIND_REFUSED');
  });

  it('a directory object wins over an available host; -act-type 2 uses the host and 1 never does', async () => {
    const both = await member('pc4', [dir.provider.url]);
    assert.equal((await both.slmgr('-skms', `127.0.0.1:${host.port}`)).code, 0);
    const first = await both.slmgr('-ato');
    assert.equal(first.json.outcome, 'directoryActivated', first.stdout);
    assert.equal((await both.slmgr('-act-type', '2')).code, 0);
    const viaHost = await both.slmgr('-ato');
    assert.ok(['activated', 'renewed'].includes(viaHost.json.outcome), viaHost.stdout);
    assert.equal(viaHost.json.host, `127.0.0.1:${host.port}`);
    assert.equal((await both.slmgr('-dlv')).json.activationType, 'host');
    assert.equal((await both.slmgr('-act-type', '0')).code, 0);
    const back = await both.slmgr('-ato');
    assert.equal(back.json.outcome, 'directoryActivated', 'with both allowed, the directory is used again');
    // a host that only counts (a client edition needs 25) leaves a held directory activation alone
    const desk = await member('pc4', [dir.provider.url], { edition: 'desk-pro' });
    assert.equal(
      (await desk.slmgr('-ato')).json.outcome,
      'directoryActivated',
      'the server-2026 object covers desk editions too',
    );
    await desk.slmgr('-skms', `127.0.0.1:${host.port}`);
    await desk.slmgr('-act-type', '2');
    const counting = await desk.slmgr('-ato');
    assert.equal(counting.json.outcome, 'countInsufficient', counting.stdout);
    assert.equal((await desk.slmgr('-dli')).json.licenseState, 'licensed', 'still licensed by the directory object');

    // directory only: an unreachable directory is an error, never a host activation
    const closed = `ldap://127.0.0.1:${await freePort()}`;
    const only = await member('pc5', [closed]);
    await only.slmgr('-skms', `127.0.0.1:${host.port}`);
    await only.slmgr('-act-type', '1');
    const none = await only.slmgr('-ato');
    assert.equal(none.json.error.code, 'DIRECTORY_UNREACHABLE');
    assert.equal((await only.slmgr('-dli')).json.licenseState, 'initialGrace');
    for (const v of ['3', '__proto__', 'constructor'])
      assert.equal((await only.slmgr('-act-type', v)).json.error.code, 'USAGE', v);
    assert.equal((await only.slmgr('-dlv')).json.activationType, 'directory');
  });

  it('an unreachable directory keeps the activation until its 180 days run out', async () => {
    const own = new TestClockFile(join(tmp.path, 'laptop-clock'), clock.t);
    const laptop = await member('pc5', [dir.provider.url], { env: own.env() });
    assert.equal((await laptop.slmgr('-ato')).json.outcome, 'directoryActivated');
    // at home: the same machine account, but the directory servers cannot be reached
    const closed = `ldap://127.0.0.1:${await freePort()}`;
    assert.equal(
      (
        await volact(
          [
            'client',
            'directory',
            '--state',
            laptop.state,
            '--url',
            closed,
            '--base',
            dir.suffix,
            '--bind-dn',
            `cn=pc5,ou=computers,${dir.suffix}`,
            '--password-file',
            file('pc5-laptop', 'pc5pw'),
          ],
          own.env(),
        )
      ).code,
      0,
    );
    own.advance(100 * DAY);
    const away = await laptop.slmgr('-ato');
    assert.equal(away.json.error.code, 'DIRECTORY_ACTIVATION_KEPT', away.stdout);
    assert.match(
      away.json.error.message,
      /could not be read now \(.*ECONNREFUSED.*\); the directory activation from office-2026 stays valid until/,
    );
    assert.equal(away.code, 6);
    const dli = await laptop.slmgr('-dli');
    assert.equal(dli.json.licenseState, 'licensed', 'kept while away');
    own.advance(79 * DAY);
    assert.equal((await laptop.slmgr('-dli')).json.licenseState, 'licensed', 'day 179');
    own.advance(2 * DAY);
    const expired = await laptop.slmgr('-dli');
    assert.equal(expired.json.licenseState, 'ootGrace', 'day 181: the 180 days ran out');
    assert.match(expired.json.reason, /renew from the directory/);
  });

  it('a member whose account is removed keeps its activation until its next start, then falls back to a host, saying why', async () => {
    // the shared clock: the activation host must agree with this machine's time
    const own = clock;
    const pc = await member('pc3', [dir.provider.url], { env: own.env() });
    await pc.slmgr('-skms', `127.0.0.1:${host.port}`);
    let agent = startAgent(pc.state, own.env());
    try {
      assert.equal((await agent.outcomes(1))[0]!.outcome, 'directoryActivated', agent.output());
      const c = new Client({ url: dir.provider.url });
      await c.bind(dir.admin.dn, dir.admin.password);
      await c.del(`cn=pc3,ou=computers,${dir.suffix}`);
      await c.unbind();
      // the 7-day read between starts is refused: that alone (a lockout anyone can cause) takes nothing away
      own.advance(7 * DAY + 60_000);
      const [, renewal] = await agent.outcomes(2);
      assert.equal(renewal!.code, 'DIRECTORY_ACTIVATION_KEPT', agent.output());
      assert.match(JSON.stringify(renewal), /DIRECTORY_BIND_REFUSED/, 'the cause is named');
      assert.equal((await pc.slmgr('-dli')).json.licenseState, 'licensed');
    } finally {
      await agent.stop();
    }
    // the next start reads the directory at once: the account is gone, so the host takes over
    agent = startAgent(pc.state, own.env());
    try {
      const [line] = await agent.outcomes(1);
      assert.equal(line!.outcome, 'activated', agent.output());
      assert.equal(line!.host, `127.0.0.1:${host.port}`);
    } finally {
      await agent.stop();
    }
    const dlv = await pc.slmgr('-dlv');
    assert.equal(dlv.json.directory.object, null, 'no directory activation any more');
    assert.match(dlv.json.directory.note, /^DIRECTORY_BIND_REFUSED: the directory .* refused the account cn=pc3/);
    assert.match(dlv.json.reason, /activated by host/);
    const events = (await volact(['client', 'events', '--state', pc.state, '--json'], own.env())).json as {
      outcome?: string;
      code?: string;
      dropped?: boolean;
    }[];
    assert.ok(
      events.some((e) => e.outcome === 'directoryRefused' && e.code === 'DIRECTORY_BIND_REFUSED' && e.dropped === true),
      'the event log says why',
    );
  });

  it('a member whose account is disabled (password policy lock) falls back to a host at its next start', async () => {
    const pc = await member('pc5', [dir.provider.url]);
    await pc.slmgr('-skms', `127.0.0.1:${host.port}`);
    assert.equal((await pc.slmgr('-ato')).json.outcome, 'directoryActivated');
    const c = new Client({ url: dir.provider.url });
    await c.bind(dir.admin.dn, dir.admin.password);
    // OpenLDAP's "administratively locked" value: the account stays, but cannot bind
    await c.modify(
      `cn=pc5,ou=computers,${dir.suffix}`,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'pwdAccountLockedTime', values: ['000001010000Z'] }),
      }),
    );
    await c.unbind();
    const ato = await pc.slmgr('-ato');
    assert.ok(['activated', 'renewed'].includes(ato.json.outcome), ato.stdout);
    assert.match(ato.json.directoryNote, /^DIRECTORY_BIND_REFUSED/);
    assert.equal((await pc.slmgr('-dlv')).json.directory.object, null);
  });

  it('an object copied into another slapd with the same suffix (another entryUUID) is refused', async () => {
    const copy = await startDirectory(join(tmp.path, 'copy'));
    cleanup.push(() => copy.stop());
    await populate(copy, ['pc1']);
    const src = new Client({ url: dir.provider.url });
    await src.bind(dir.admin.dn, dir.admin.password);
    const { searchEntries } = await src.search(container(dir.suffix), {
      scope: 'one',
      filter: '(cn=office-2026)',
      attributes: ['volactSignedObject', 'volactKeyId'],
    });
    await src.unbind();
    const dst = new Client({ url: copy.provider.url });
    await dst.bind(copy.admin.dn, copy.admin.password);
    await dst.add(container(copy.suffix), { objectClass: 'volactContainer', cn: 'Activation Objects' });
    await dst.add(`cn=office-2026,${container(copy.suffix)}`, {
      objectClass: 'volactActivationObject',
      cn: 'office-2026',
      volactSignedObject: String(searchEntries[0]!.volactSignedObject),
      volactKeyId: String(searchEntries[0]!.volactKeyId),
    });
    await dst.unbind();
    const pc = await member('pc1', [copy.provider.url]);
    await pc.slmgr('-act-type', '1');
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.error.code, 'DIRECTORY_NO_OBJECT', ato.stdout);
    assert.match(ato.json.error.message, /office-2026: DIRECTORY_OBJECT_FOREIGN/);
    const list = await volact(
      [
        'slmgr',
        '--state',
        admin,
        '--json',
        '--ldap-url',
        copy.provider.url,
        '--ldap-base',
        copy.suffix,
        '--bind-dn',
        `cn=dirops,ou=people,${copy.suffix}`,
        '--password-file',
        files.ops!,
        '-ao-list',
      ],
      clock.env(),
    );
    assert.equal(list.json.objects[0].status, 'DIRECTORY_OBJECT_FOREIGN');
  });

  it('offline: -ad-activation-get-iid, the authority confirms, -ad-activation-apply-cid writes an object members use', async () => {
    const bundle = join(tmp.path, 'volact-offline.json');
    assert.equal(
      (await volact(['authority', 'offline-bundle', '--dir', world.dir, '--out', bundle], clock.env())).code,
      0,
    );
    assert.equal((await volact(['client', 'trust', bundle, '--state', admin], clock.env())).code, 0);
    const key = await world.issueHostKey('server-2026');
    const iid = await ops(dir.provider.url, '-ad-activation-get-iid', key);
    assert.equal(iid.code, 0, iid.stdout);
    const confirmed = await volact(
      ['authority', 'confirm', iid.json.installationId, '--dir', world.dir, '--json', '--no-qr'],
      clock.env(),
    );
    assert.equal(confirmed.json.type, 'directory', confirmed.stdout);
    // a confirmation for another installation (another key) does not apply here
    const otherIid = await ops(dir.provider.url, '-ad-activation-get-iid', hostKey);
    const otherCid = await volact(
      ['authority', 'confirm', otherIid.json.installationId, '--dir', world.dir, '--json', '--no-qr'],
      clock.env(),
    );
    const mismatch = await ops(
      dir.provider.url,
      '-ad-activation-apply-cid',
      key,
      otherCid.json.confirmationId,
      'branch-offline',
    );
    assert.equal(mismatch.json.error.code, 'CONFIRMATION_MISMATCH');
    const applied = await ops(
      dir.provider.url,
      '-ad-activation-apply-cid',
      key,
      confirmed.json.confirmationId,
      'branch-offline',
    );
    assert.equal(applied.code, 0, applied.stdout);
    assert.equal(applied.json.offline, true);
    const list = await ops(dir.provider.url, '-ao-list');
    assert.deepEqual(
      list.json.objects.map((o: { name: string; status: string }) => [o.name, o.status]),
      [
        ['branch-offline', 'valid'],
        ['office-2026', 'valid'],
      ],
    );
    const pc = await member('pc6', [dir.provider.url]);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.object, 'branch-offline', 'the first valid object by name');
  });

  it('members read every object, past the server size limit (paged), and take the valid one', async () => {
    const c = new Client({ url: dir.provider.url });
    await c.bind(dir.admin.dn, dir.admin.password);
    for (let i = 0; i < 60; i++)
      await c.add(`cn=old-${String(i).padStart(2, '0')},${container(dir.suffix)}`, {
        objectClass: 'volactActivationObject',
        cn: `old-${String(i).padStart(2, '0')}`,
        volactSignedObject: 'not-an-object',
      });
    await c.unbind();
    const list = await ops(dir.provider.url, '-ao-list');
    assert.equal(list.json.objects.length, 62, 'more than the size limit of 50');
    assert.equal(
      list.json.objects.filter((o: { status: string }) => o.status === 'DIRECTORY_OBJECT_INVALID').length,
      60,
    );
    const pc = await member('pc6', [dir.provider.url]);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.outcome, 'directoryActivated', ato.stdout);
    for (let i = 0; i < 60; i++)
      assert.equal((await ops(dir.provider.url, '-del-ao', `old-${String(i).padStart(2, '0')}`)).code, 0);
  });

  it('answers CLI mistakes around directories with stable codes and a fix, changing nothing', async () => {
    const fresh = join(tmp.path, 'mistakes');
    assert.equal((await volact(['client', 'trust', world.rootPub, '--state', fresh], clock.env())).code, 0);
    const run = (...args: string[]) => volact(['slmgr', '--state', fresh, '--json', ...args], clock.env());
    const cases: [string[], string][] = [
      [['-ao-list'], 'DIRECTORY_NOT_CONFIGURED'],
      [
        [
          '-ad-activation-online',
          hostKey,
          'x',
          '--ldap-url',
          dir.provider.url,
          '--ldap-base',
          dir.suffix,
          '--bind-dn',
          'cn=x',
          '--password-file',
          files.ops!,
        ],
        'NO_AUTHORITY',
      ],
      [
        [
          '-ad-activation-online',
          hostKey,
          'x',
          '--authority',
          'http://127.0.0.1:1',
          '--ldap-url',
          'http://127.0.0.1',
          '--ldap-base',
          dir.suffix,
          '--bind-dn',
          'cn=x',
          '--password-file',
          files.ops!,
        ],
        'USAGE',
      ],
      [
        [
          '-ao-list',
          '--ldap-url',
          dir.provider.url,
          '--ldap-base',
          dir.suffix,
          '--bind-dn',
          `cn=dirops,ou=people,${dir.suffix}`,
        ],
        'USAGE',
      ],
      [
        [
          '-ao-list',
          '--ldap-url',
          dir.provider.url,
          '--ldap-base',
          dir.suffix,
          '--bind-dn',
          `cn=dirops,ou=people,${dir.suffix}`,
          '--password-file',
          join(tmp.path, 'no-such-file'),
        ],
        'USAGE',
      ],
      [
        [
          '-del-ao',
          'cn=x,dc=elsewhere',
          '--ldap-url',
          dir.provider.url,
          '--ldap-base',
          dir.suffix,
          '--bind-dn',
          `cn=dirops,ou=people,${dir.suffix}`,
          '--password-file',
          files.ops!,
        ],
        'USAGE',
      ],
      [['-ad-activation-apply-cid', hostKey, 'NOT-A-CODE'], 'OFFLINE_BUNDLE_MISSING'],
      [['-ad-activation-online', 'not-a-key'], 'KEY_MALFORMED'],
      [['-act-type'], 'USAGE'],
    ];
    for (const [args, expected] of cases) {
      const r = await run(...args);
      assert.equal(r.json?.error?.code, expected, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.ok(r.json.error.fix && r.code !== 0);
    }
    const joinWith = (...args: string[]) =>
      volact(['client', 'directory', '--state', fresh, '--json', ...args], clock.env());
    assert.equal((await joinWith('--url', dir.provider.url)).json.error.code, 'USAGE', 'partial settings');
    assert.equal(
      (await joinWith('--clear', '--url', dir.provider.url)).json.error.code,
      'USAGE',
      '--clear with settings',
    );
    assert.equal(
      (
        await joinWith(
          '--url',
          'ldap://h:99999',
          '--base',
          dir.suffix,
          '--bind-dn',
          'cn=x',
          '--password-file',
          files.ops!,
        )
      ).json.error.code,
      'USAGE',
      'a port out of range',
    );
    assert.equal((await joinWith('--check')).json.error.code, 'DIRECTORY_NOT_CONFIGURED');
    // one option, two spellings (issue 10): --ldap-* everywhere, --url/--base/--ca as aliases, never both with different values
    const both = await joinWith(
      '--ldap-url',
      dir.provider.url,
      '--url',
      dir.consumer.url,
      '--ldap-base',
      dir.suffix,
      '--bind-dn',
      'cn=x',
      '--password-file',
      files.ops!,
    );
    assert.deepEqual([both.code, both.json.error.code], [2, 'USAGE']);
    assert.match(both.json.error.message, /--ldap-url and --url are the same option/);
    const dirops = ['--bind-dn', `cn=dirops,ou=people,${dir.suffix}`, '--password-file', files.ops!];
    assert.equal(
      (
        await run(
          '-ao-list',
          '--ldap-base',
          dir.suffix,
          '--base',
          'dc=other,dc=test',
          '--ldap-url',
          dir.provider.url,
          ...dirops,
        )
      ).json.error.code,
      'USAGE',
    );
    const aliased = await run('-ao-list', '--url', dir.provider.url, '--base', dir.suffix, ...dirops);
    assert.deepEqual(
      [aliased.json.server, aliased.json.container],
      [dir.provider.url, container(dir.suffix)],
      aliased.stdout + aliased.stderr,
    );
    assert.equal((await run('-dlv')).json.directory, null, 'nothing was stored');
  });

  it('deleting an object: not on the replica; members stop using it at their next read and fall back', async () => {
    const onReplica = await ops(dir.consumer.url, '-del-ao', 'office-2026');
    assert.equal(onReplica.json.error.code, 'DIRECTORY_READ_ONLY');
    for (const name of ['office-2026', `cn=branch-offline,${container(dir.suffix)}`]) {
      const del = await ops(dir.provider.url, '-del-ao', name);
      assert.equal(del.code, 0, del.stdout);
    }
    assert.equal((await ops(dir.provider.url, '-del-ao', 'office-2026')).json.error.code, 'DIRECTORY_OBJECT_UNKNOWN');
    assert.deepEqual((await ops(dir.provider.url, '-ao-list')).json.objects, []);
    const pc = await member('pc1', [dir.provider.url]);
    await pc.slmgr('-skms', `127.0.0.1:${host.port}`);
    const ato = await pc.slmgr('-ato');
    assert.equal(ato.json.outcome, 'activated', ato.stdout);
    assert.match(ato.json.directoryNote, /^DIRECTORY_NO_OBJECT/);
  });
});
