import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { Attribute, Change, Client, InsufficientAccessError, ObjectClassViolationError } from 'ldapts';
import { tempDir } from './harness/cli.js';
import { freePort, systemBinary } from './harness/ports.js';
import { spawnSlapd } from './harness/slapd.js';
import {
  connectDirectory,
  ensureContainers,
  listObjects,
  objectExists,
  readDirectoryId,
  requireSchema,
  requireWritable,
} from '@volact/directory';

/**
 * The cn=config (OLC) forms of volact's OpenLDAP files in ldap/: volact.ldif (the schema),
 * volact-containers.ldif and volact-acl.ldif. A real slapd is configured with `slapadd -n0 -F`
 * from a bootstrap LDIF that includes ldap/volact.ldif, then the other two are applied with the
 * OpenLDAP client tools as an operator would.
 */

const REPO = new URL('../../', import.meta.url).pathname;
const ldapFile = (name: string) => join(REPO, 'ldap', name);

const SUFFIX = 'dc=ldif,dc=test';
const ADMIN = { dn: `cn=admin,${SUFFIX}`, password: 'adminpw' };
const CONFIG_ADMIN = { dn: 'cn=admin,cn=config', password: 'configpw' };
const CONTAINER = `cn=Activation Objects,cn=volact,cn=Services,${SUFFIX}`;
const VOLACT_OID = '2.25.54676373993274570070510094698092774779';

type Run = { code: number; stdout: string; stderr: string };
function run(cmd: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err
        ? typeof (err as { code?: unknown }).code === 'number'
          ? (err as { code: number }).code
          : -1
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
async function runOk(cmd: string, args: string[]): Promise<Run> {
  const r = await run(cmd, args);
  assert.equal(r.code, 0, `${cmd} ${args.join(' ')} failed (${r.code})\n${r.stdout}\n${r.stderr}`);
  return r;
}

const values = (v: unknown): string[] => (v === undefined ? [] : [v].flat().map(String));
const squash = (s: string) => s.replace(/\s+/g, ' ').trim();
const unordered = (s: string) => s.replace(/^\{\d+\}/, '');

/** The schema statements of a slapd.conf schema file, keyed as in cn=config. */
function schemaStatements(text: string): {
  olcObjectIdentifier: string[];
  olcAttributeTypes: string[];
  olcObjectClasses: string[];
} {
  const out = {
    olcObjectIdentifier: [] as string[],
    olcAttributeTypes: [] as string[],
    olcObjectClasses: [] as string[],
  };
  const key = {
    objectidentifier: 'olcObjectIdentifier',
    attributetype: 'olcAttributeTypes',
    objectclass: 'olcObjectClasses',
  } as const;
  const statements: string[] = [];
  for (const line of text.split('\n')) {
    if (/^\s*(#|$)/.test(line)) continue;
    if (/^\s/.test(line)) statements[statements.length - 1] += ` ${line}`;
    else statements.push(line);
  }
  for (const st of statements) {
    const [, keyword = '', definition = ''] = /^(\S+)\s+([\s\S]*)$/.exec(st) ?? [];
    const k = key[keyword.toLowerCase() as keyof typeof key];
    assert.ok(k, `unexpected statement in volact.schema: ${st}`);
    out[k].push(squash(definition));
  }
  return out;
}

/** The records of a simple LDIF file (folded lines joined, comments dropped): [attribute, value] pairs. */
function ldifRecords(text: string): [string, string][][] {
  const unfolded = text.replace(/\r?\n /g, '');
  const records: [string, string][][] = [];
  for (const block of unfolded.split(/\n\s*\n/)) {
    const rec: [string, string][] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      const [, attr, value] = /^([^:]+):\s?(.*)$/.exec(line) ?? [];
      assert.ok(
        attr !== undefined && value !== undefined && !value.startsWith(':') && !value.startsWith('<'),
        `simple LDIF expected: ${line}`,
      );
      rec.push([attr, value]);
    }
    if (rec.length) records.push(rec);
  }
  return records;
}

describe('cn=config LDIF forms of the volact schema, containers and ACLs in a real slapd', { timeout: 120_000 }, () => {
  const tmp = tempDir('volact-ldif-');
  const dir = tmp.path;
  const cfgDir = join(dir, 'slapd.d');
  let url = '';
  let stopSlapd: () => Promise<void> = async () => undefined;

  const bound = async (dn?: string, password?: string) => {
    const c = new Client({ url, timeout: 5000, connectTimeout: 5000 });
    if (dn) await c.bind(dn, password!);
    return c;
  };
  const withClient = async <T>(
    dn: string | undefined,
    password: string | undefined,
    f: (c: Client) => Promise<T>,
  ): Promise<T> => {
    const c = await bound(dn, password);
    try {
      return await f(c);
    } finally {
      await c.unbind();
    }
  };
  /** The cn of the activation objects `dn` can see ([] when the ACL hides the container). */
  const objectsSeenBy = (dn?: string, password?: string) =>
    withClient(dn, password, async (c) => {
      try {
        const { searchEntries } = await c.search(CONTAINER, {
          scope: 'one',
          filter: '(objectClass=volactActivationObject)',
          attributes: ['cn', 'volactSignedObject'],
        });
        return searchEntries.map((e) => String(e.cn)).sort();
      } catch (err) {
        if ((err as { code?: number }).code === 32) return []; // no such object: hidden by an ACL
        throw err;
      }
    });

  before(async () => {
    const slapadd = systemBinary('slapadd', 'slapd');
    mkdirSync(cfgDir, { recursive: true });
    mkdirSync(join(dir, 'data'), { recursive: true });
    mkdirSync(join(dir, 'data-other'), { recursive: true });
    const include = (path: string) => `include: ${pathToFileURL(path).href}`;
    const bootstrap = [
      'dn: cn=config',
      'objectClass: olcGlobal',
      'cn: config',
      `olcPidFile: ${join(dir, 'slapd.pid')}`,
      `olcArgsFile: ${join(dir, 'slapd.args')}`,
      '',
      'dn: cn=module{0},cn=config',
      'objectClass: olcModuleList',
      'cn: module{0}',
      'olcModulePath: /usr/lib/ldap',
      'olcModuleLoad: {0}back_mdb',
      '',
      'dn: cn=schema,cn=config',
      'objectClass: olcSchemaConfig',
      'cn: schema',
      '',
      ...['core', 'cosine', 'inetorgperson', 'nis'].flatMap((s) => [include(`/etc/ldap/schema/${s}.ldif`), '']),
      include(ldapFile('volact.ldif')),
      '',
      'dn: olcDatabase={-1}frontend,cn=config',
      'objectClass: olcDatabaseConfig',
      'objectClass: olcFrontendConfig',
      'olcDatabase: {-1}frontend',
      '',
      'dn: olcDatabase={0}config,cn=config',
      'objectClass: olcDatabaseConfig',
      'olcDatabase: {0}config',
      `olcRootDN: ${CONFIG_ADMIN.dn}`,
      `olcRootPW: ${CONFIG_ADMIN.password}`,
      '',
      // another database first, so that the directory's is {2}mdb: the ACL file must not assume {1}
      'dn: olcDatabase={1}mdb,cn=config',
      'objectClass: olcDatabaseConfig',
      'objectClass: olcMdbConfig',
      'olcDatabase: {1}mdb',
      'olcSuffix: dc=other,dc=test',
      `olcDbDirectory: ${join(dir, 'data-other')}`,
      'olcDbMaxSize: 10485760',
      '',
      'dn: olcDatabase={2}mdb,cn=config',
      'objectClass: olcDatabaseConfig',
      'objectClass: olcMdbConfig',
      'olcDatabase: {2}mdb',
      `olcSuffix: ${SUFFIX}`,
      `olcRootDN: ${ADMIN.dn}`,
      `olcRootPW: ${ADMIN.password}`,
      `olcDbDirectory: ${join(dir, 'data')}`,
      'olcDbMaxSize: 104857600',
      'olcDbIndex: objectClass eq',
      // a permissive base policy, so that the volact ACL added later visibly narrows it
      'olcAccess: {0}to attrs=userPassword by self write by anonymous auth by * none',
      'olcAccess: {1}to * by * read',
      '',
    ].join('\n');
    writeFileSync(join(dir, 'bootstrap.ldif'), bootstrap);
    await runOk(slapadd, ['-n0', '-F', cfgDir, '-l', join(dir, 'bootstrap.ldif')]);

    const port = await freePort();
    url = `ldap://127.0.0.1:${port}`;
    const server = await spawnSlapd(['-F', cfgDir], [`${url}/`], port);
    stopSlapd = server.stop;

    await withClient(ADMIN.dn, ADMIN.password, async (c) => {
      const entries: [string, Record<string, string | string[]>][] = [
        [SUFFIX, { objectClass: ['dcObject', 'organization'], o: 'LDIF test', dc: 'ldif' }],
        [`ou=people,${SUFFIX}`, { objectClass: 'organizationalUnit', ou: 'people' }],
        [`ou=computers,${SUFFIX}`, { objectClass: 'organizationalUnit', ou: 'computers' }],
        [`ou=groups,${SUFFIX}`, { objectClass: 'organizationalUnit', ou: 'groups' }],
        [
          `cn=dirops,ou=people,${SUFFIX}`,
          { objectClass: 'inetOrgPerson', cn: 'dirops', sn: 'Ops', userPassword: 'opspw' },
        ],
        [
          `cn=alice,ou=people,${SUFFIX}`,
          { objectClass: 'inetOrgPerson', cn: 'alice', sn: 'User', userPassword: 'alicepw' },
        ],
        [
          `cn=volact-admins,ou=groups,${SUFFIX}`,
          { objectClass: 'groupOfNames', cn: 'volact-admins', member: `cn=dirops,ou=people,${SUFFIX}` },
        ],
        [
          `cn=pc1,ou=computers,${SUFFIX}`,
          { objectClass: ['device', 'simpleSecurityObject'], cn: 'pc1', userPassword: 'pc1pw' },
        ],
      ];
      for (const [dn, attrs] of entries) await c.add(dn, attrs);
    });
  });

  after(async () => {
    await stopSlapd();
    tmp.cleanup();
  });

  it('ldap/volact.ldif defines exactly what ldap/volact.schema does', () => {
    const fromSchema = schemaStatements(readFileSync(ldapFile('volact.schema'), 'utf8'));
    const records = ldifRecords(readFileSync(ldapFile('volact.ldif'), 'utf8'));
    assert.equal(records.length, 1);
    const rec = records[0]!;
    assert.deepEqual(rec[0], ['dn', 'cn=volact,cn=schema,cn=config']);
    assert.deepEqual(
      rec.filter(([a]) => a === 'objectClass').map(([, v]) => v),
      ['olcSchemaConfig'],
    );
    const fromLdif = {
      olcObjectIdentifier: [] as string[],
      olcAttributeTypes: [] as string[],
      olcObjectClasses: [] as string[],
    };
    for (const [a, v] of rec) if (a in fromLdif) fromLdif[a as keyof typeof fromLdif].push(squash(unordered(v)));
    assert.deepEqual(fromLdif, fromSchema);
  });

  it('slapd loaded the schema into cn=schema,cn=config, with the OIDs expanded as in volact.schema', async () => {
    await withClient(CONFIG_ADMIN.dn, CONFIG_ADMIN.password, async (c) => {
      const { searchEntries } = await c.search('cn=schema,cn=config', {
        scope: 'one',
        filter: '(cn=*volact)',
        attributes: ['cn', 'olcObjectIdentifier', 'olcAttributeTypes', 'olcObjectClasses'],
      });
      assert.equal(searchEntries.length, 1, 'one volact schema entry');
      const e = searchEntries[0]!;
      assert.match(e.dn, /^cn=\{\d+\}volact,cn=schema,cn=config$/);
      assert.ok(
        values(e.olcObjectClasses).some((v) => v.includes("NAME 'volactActivationObject'")),
        'volactActivationObject in cn=schema,cn=config',
      );
      // what slapd stored is what the file says (apart from the {n} ordering prefixes)
      const rec = ldifRecords(readFileSync(ldapFile('volact.ldif'), 'utf8'))[0]!;
      for (const attr of ['olcObjectIdentifier', 'olcAttributeTypes', 'olcObjectClasses']) {
        assert.deepEqual(
          values(e[attr]).map((v) => squash(unordered(v))),
          rec.filter(([a]) => a === attr).map(([, v]) => squash(unordered(v))),
          attr,
        );
      }
    });
    // and the subschema subentry has the definitions under their real OIDs
    await withClient(undefined, undefined, async (c) => {
      const { searchEntries } = await c.search('cn=Subschema', {
        scope: 'base',
        filter: '(objectClass=*)',
        attributes: ['attributeTypes', 'objectClasses'],
      });
      const [subschema] = searchEntries;
      assert.ok(subschema, 'the subschema subentry');
      const types = values(subschema.attributeTypes);
      const classes = values(subschema.objectClasses);
      const find = (list: string[], name: string) =>
        list.find((v) => v.includes(`NAME '${name}'`)) ?? assert.fail(`${name} not in the subschema`);
      assert.match(
        find(types, 'volactSignedObject'),
        new RegExp(
          `^\\( ${VOLACT_OID}\\.1\\.1 .*SYNTAX 1\\.3\\.6\\.1\\.4\\.1\\.1466\\.115\\.121\\.1\\.26\\{65536\\} SINGLE-VALUE`,
        ),
      );
      assert.match(
        find(types, 'volactKeyId'),
        new RegExp(
          `^\\( ${VOLACT_OID}\\.1\\.2 .*SYNTAX 1\\.3\\.6\\.1\\.4\\.1\\.1466\\.115\\.121\\.1\\.26\\{64\\} SINGLE-VALUE`,
        ),
      );
      assert.match(
        find(classes, 'volactContainer'),
        new RegExp(`^\\( ${VOLACT_OID}\\.2\\.1 .*STRUCTURAL MUST cn MAY description \\)$`),
      );
      assert.match(
        find(classes, 'volactActivationObject'),
        new RegExp(
          `^\\( ${VOLACT_OID}\\.2\\.2 .*STRUCTURAL MUST \\( cn \\$ volactSignedObject \\) MAY \\( description \\$ volactKeyId \\) \\)$`,
        ),
      );
    });
  });

  it('ldap/volact-containers.ldif (SUFFIX replaced) loads with ldapadd; an activation object goes in and reads back', async () => {
    const text = readFileSync(ldapFile('volact-containers.ldif'), 'utf8');
    const dns = ldifRecords(text).map((r) => r.find(([a]) => a === 'dn')![1]);
    assert.deepEqual(dns, [
      'cn=Services,SUFFIX',
      'cn=volact,cn=Services,SUFFIX',
      'cn=Activation Objects,cn=volact,cn=Services,SUFFIX',
    ]);
    const file = join(dir, 'containers.ldif');
    writeFileSync(file, text.replaceAll('SUFFIX', SUFFIX));
    await runOk(systemBinary('ldapadd', 'ldap-utils'), [
      '-x',
      '-H',
      url,
      '-D',
      ADMIN.dn,
      '-w',
      ADMIN.password,
      '-f',
      file,
    ]);

    const jws = 'eyJhbGciOiJFZERTQSJ9.eyJ0ZXN0Ijp0cnVlfQ.c2lnbmF0dXJl';
    await withClient(ADMIN.dn, ADMIN.password, async (c) => {
      await c.add(`cn=obj1,${CONTAINER}`, {
        objectClass: 'volactActivationObject',
        cn: 'obj1',
        volactSignedObject: jws,
        volactKeyId: 'key-1',
      });
      const { searchEntries } = await c.search(`cn=obj1,${CONTAINER}`, {
        scope: 'base',
        attributes: ['objectClass', 'cn', 'volactSignedObject', 'volactKeyId'],
      });
      assert.equal(searchEntries.length, 1);
      const obj = searchEntries[0]!;
      assert.deepEqual(values(obj.objectClass), ['volactActivationObject']);
      assert.equal(String(obj.volactSignedObject), jws);
      assert.equal(String(obj.volactKeyId), 'key-1');
      // the containers are volactContainer entries
      const containers = await c.search(`cn=Services,${SUFFIX}`, {
        scope: 'sub',
        filter: '(objectClass=volactContainer)',
        attributes: ['cn'],
      });
      assert.deepEqual(
        containers.searchEntries.map((e) => e.dn).sort(),
        [`cn=Services,${SUFFIX}`, `cn=volact,cn=Services,${SUFFIX}`, CONTAINER].sort(),
      );
      // SINGLE-VALUE and MUST hold
      await assert.rejects(
        c.modify(`cn=obj1,${CONTAINER}`, [
          new Change({ operation: 'add', modification: new Attribute({ type: 'volactKeyId', values: ['key-2'] }) }),
        ]),
        (err: { code?: number }) => err.code === 19, // constraintViolation: a second value of a SINGLE-VALUE attribute
      );
      await assert.rejects(
        c.add(`cn=obj2,${CONTAINER}`, { objectClass: 'volactActivationObject', cn: 'obj2' }),
        ObjectClassViolationError,
      );
    });
    // before the volact ACL, the base policy lets anyone read the objects
    assert.deepEqual(await objectsSeenBy(), ['obj1']);
  });

  it('ldap/volact-acl.ldif and ldap/volact-acl.conf hold the same rules', () => {
    const fromLdif = ldifRecords(readFileSync(ldapFile('volact-acl.ldif'), 'utf8'))[0]!
      .filter(([a]) => a === 'olcAccess')
      .map(([, v]) => squash(unordered(v)));
    const fromConf = readFileSync(ldapFile('volact-acl.conf'), 'utf8')
      .split('\n')
      .filter((l) => !/^\s*(#|$)/.test(l))
      .join('\n')
      .split(/\n(?=access )/)
      .map((rule) => squash(rule.replace(/^access /, '')));
    assert.equal(fromLdif.length, 2);
    assert.deepEqual(fromConf, fromLdif);
  });

  let database = '';
  it('ldap/volact-acl.ldif (placeholders replaced, the database found by its suffix) applies with ldapmodify and restricts the objects', async () => {
    const file = join(dir, 'acl.ldif');
    const text = readFileSync(ldapFile('volact-acl.ldif'), 'utf8');
    assert.match(text, /^dn: DATABASE$/m, 'no database is hard-coded');
    assert.doesNotMatch(text.replace(/^#.*$/gm, ''), /olcDatabase=/);
    // find the database as the file's comment says (here over the network as the config admin, not ldapi:///)
    const found = await runOk(systemBinary('ldapsearch', 'ldap-utils'), [
      '-LLL',
      '-o',
      'ldif-wrap=no',
      '-x',
      '-H',
      url,
      '-D',
      CONFIG_ADMIN.dn,
      '-w',
      CONFIG_ADMIN.password,
      '-b',
      'cn=config',
      `(olcSuffix=${SUFFIX})`,
      'dn',
    ]);
    database = /^dn: (.+)$/m.exec(found.stdout)?.[1] ?? '';
    assert.equal(database, 'olcDatabase={2}mdb,cn=config');
    writeFileSync(file, text.replace(/^dn: DATABASE$/m, `dn: ${database}`).replaceAll('SUFFIX', SUFFIX));
    await runOk(systemBinary('ldapmodify', 'ldap-utils'), [
      '-x',
      '-H',
      url,
      '-D',
      CONFIG_ADMIN.dn,
      '-w',
      CONFIG_ADMIN.password,
      '-f',
      file,
    ]);

    await withClient(CONFIG_ADMIN.dn, CONFIG_ADMIN.password, async (c) => {
      const { searchEntries } = await c.search(database, { scope: 'base', attributes: ['olcAccess'] });
      const access = values(searchEntries[0]?.olcAccess).map(squash);
      assert.deepEqual(access.slice(0, 2), [
        `{0}to dn.base="${SUFFIX}" attrs=entry,objectClass,entryUUID by group.exact="cn=volact-admins,ou=groups,${SUFFIX}" read by dn.children="ou=computers,${SUFFIX}" read by * break`,
        `{1}to dn.subtree="cn=volact,cn=Services,${SUFFIX}" by group.exact="cn=volact-admins,ou=groups,${SUFFIX}" write by dn.children="ou=computers,${SUFFIX}" read by * none`,
      ]);
      assert.deepEqual(access.slice(2), [
        '{2}to attrs=userPassword by self write by anonymous auth by * none',
        '{3}to * by * read',
      ]);
    });

    // the same behaviour as volact-acl.conf in slapd.conf: members read, admins write, nobody else sees them
    assert.deepEqual(await objectsSeenBy(`cn=pc1,ou=computers,${SUFFIX}`, 'pc1pw'), ['obj1']);
    assert.deepEqual(await objectsSeenBy(`cn=alice,ou=people,${SUFFIX}`, 'alicepw'), []);
    assert.deepEqual(await objectsSeenBy(), []);
    await withClient(`cn=dirops,ou=people,${SUFFIX}`, 'opspw', (c) =>
      c.add(`cn=obj3,${CONTAINER}`, { objectClass: 'volactActivationObject', cn: 'obj3', volactSignedObject: 'a.b.c' }),
    );
    await withClient(`cn=pc1,ou=computers,${SUFFIX}`, 'pc1pw', (c) =>
      assert.rejects(
        c.add(`cn=obj4,${CONTAINER}`, {
          objectClass: 'volactActivationObject',
          cn: 'obj4',
          volactSignedObject: 'a.b.c',
        }),
        InsufficientAccessError,
      ),
    );
    assert.deepEqual(await objectsSeenBy(`cn=pc1,ou=computers,${SUFFIX}`, 'pc1pw'), ['obj1', 'obj3']);
  });

  it('the shipped rules are enough on their own: under a directory that lets nobody read anything else, members and admins still read the directory ID', async () => {
    // the base policy becomes "only your own entry"; the volact rules stay in front of it
    await withClient(CONFIG_ADMIN.dn, CONFIG_ADMIN.password, async (c) => {
      const { searchEntries } = await c.search(database, { scope: 'base', attributes: ['olcAccess'] });
      const access = values(searchEntries[0]?.olcAccess).map((v) => v.replace(/^\{\d+\}/, ''));
      assert.equal(access.at(-1), 'to * by * read');
      access[access.length - 1] = 'to * by self read by * none';
      await c.modify(database, [
        new Change({ operation: 'replace', modification: new Attribute({ type: 'olcAccess', values: access }) }),
      ]);
    });
    const session = (dn: string, password: string) =>
      connectDirectory({ urls: [url], base: SUFFIX, bindDn: dn, password });
    const directoryId = await withClient(ADMIN.dn, ADMIN.password, async (c) =>
      String((await c.search(SUFFIX, { scope: 'base', attributes: ['entryUUID'] })).searchEntries[0]!.entryUUID),
    );
    // a member: what a machine reads at each activation
    const member = await session(`cn=pc1,ou=computers,${SUFFIX}`, 'pc1pw');
    try {
      assert.equal((await readDirectoryId(member, SUFFIX)).directoryId, directoryId);
      assert.deepEqual(
        (await listObjects(member, SUFFIX)).map((o) => o.name),
        ['obj1', 'obj3'],
      );
    } finally {
      await member.close();
    }
    // an administrator: everything -ad-activation-online checks before it writes an object
    const admin = await session(`cn=dirops,ou=people,${SUFFIX}`, 'opspw');
    try {
      await requireSchema(admin);
      await requireWritable(admin, SUFFIX);
      await ensureContainers(admin, SUFFIX, `cn=dirops,ou=people,${SUFFIX}`);
      assert.equal((await readDirectoryId(admin, SUFFIX)).directoryId, directoryId);
      assert.equal(await objectExists(admin, SUFFIX, 'obj1'), true);
    } finally {
      await admin.close();
    }
    // an ordinary user still reads nothing of it
    const user = await session(`cn=alice,ou=people,${SUFFIX}`, 'alicepw');
    try {
      await assert.rejects(readDirectoryId(user, SUFFIX), (err: { code?: string }) => err.code === 'USAGE');
    } finally {
      await user.close();
    }
  });
});
