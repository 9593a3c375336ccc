import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from 'ldapts';
import { tempDir } from './harness/cli.js';
import { startDirectory, type Directory } from './harness/slapd.js';

/**
 * The directory side of issue 5, against real OpenLDAP: volact's schema and ACLs in a provider and
 * a read-only syncrepl consumer. (Creating objects from the CLI and activating from them come next.)
 */
describe('directory activation objects in OpenLDAP (schema, ACLs, replica)', { timeout: 120_000 }, () => {
  const tmp = tempDir('volact-ldap-');
  let dir: Directory;
  const container = () => `cn=Activation Objects,cn=volact,cn=Services,${dir.suffix}`;

  const bound = async (url: string, dn?: string, password?: string) => {
    const c = new Client({ url, timeout: 5000, connectTimeout: 5000 });
    if (dn) await c.bind(dn, password!);
    return c;
  };
  const objectsSeenBy = async (url: string, dn?: string, password?: string) => {
    const c = await bound(url, dn, password);
    try {
      const { searchEntries } = await c.search(container(), { scope: 'one', filter: '(objectClass=volactActivationObject)', attributes: ['cn', 'volactSignedObject'] });
      return searchEntries.map((e) => String(e.cn));
    } catch (err) {
      // an ACL that hides the container answers "no such object"
      if ((err as { code?: number }).code === 32) return [];
      throw err;
    } finally {
      await c.unbind();
    }
  };

  before(async () => {
    dir = await startDirectory(join(tmp.path, 'ldap'));
    const admin = await bound(dir.provider.url, dir.admin.dn, dir.admin.password);
    const s = dir.suffix;
    const entries: [string, Record<string, string | string[]>][] = [
      [s, { objectClass: ['dcObject', 'organization'], o: 'Example', dc: 'example' }],
      [`ou=people,${s}`, { objectClass: 'organizationalUnit', ou: 'people' }],
      [`ou=computers,${s}`, { objectClass: 'organizationalUnit', ou: 'computers' }],
      [`ou=groups,${s}`, { objectClass: 'organizationalUnit', ou: 'groups' }],
      [`cn=dirops,ou=people,${s}`, { objectClass: 'inetOrgPerson', cn: 'dirops', sn: 'Ops', userPassword: 'opspw' }],
      [`cn=alice,ou=people,${s}`, { objectClass: 'inetOrgPerson', cn: 'alice', sn: 'User', userPassword: 'alicepw' }],
      [`cn=volact-admins,ou=groups,${s}`, { objectClass: 'groupOfNames', cn: 'volact-admins', member: `cn=dirops,ou=people,${s}` }],
      [`cn=pc1,ou=computers,${s}`, { objectClass: ['device', 'simpleSecurityObject'], cn: 'pc1', userPassword: 'pc1pw' }],
      [`cn=Services,${s}`, { objectClass: 'volactContainer', cn: 'Services' }],
      [`cn=volact,cn=Services,${s}`, { objectClass: 'volactContainer', cn: 'volact' }],
      [container(), { objectClass: 'volactContainer', cn: 'Activation Objects' }],
    ];
    for (const [dn, attrs] of entries) await admin.add(dn, attrs);
    await admin.unbind();
  });

  after(async () => {
    await dir?.stop();
    tmp.cleanup();
  });

  it('directory administrators create objects; members read them; anonymous and ordinary users see nothing', async () => {
    const ops = await bound(dir.provider.url, `cn=dirops,ou=people,${dir.suffix}`, 'opspw');
    await ops.add(`cn=office-2026,${container()}`, { objectClass: 'volactActivationObject', cn: 'office-2026', volactSignedObject: 'eyJhbGciOiJFZERTQSJ9.e30.sig', volactKeyId: 'HK-1234' });
    await ops.unbind();
    assert.deepEqual(await objectsSeenBy(dir.provider.url, `cn=pc1,ou=computers,${dir.suffix}`, 'pc1pw'), ['office-2026']);
    assert.deepEqual(await objectsSeenBy(dir.provider.url), [], 'anonymous');
    assert.deepEqual(await objectsSeenBy(dir.provider.url, `cn=alice,ou=people,${dir.suffix}`, 'alicepw'), [], 'an ordinary user');
    const alice = await bound(dir.provider.url, `cn=alice,ou=people,${dir.suffix}`, 'alicepw');
    await assert.rejects(alice.add(`cn=forged,${container()}`, { objectClass: 'volactActivationObject', cn: 'forged', volactSignedObject: 'x' }), (e: { code?: number }) => e.code === 50, 'insufficient access');
    await alice.unbind();
  });

  it('the read-only replica serves the objects to members and refers writes to the provider', async () => {
    const deadline = Date.now() + 10_000;
    // until replicated, the machine account itself is not there yet (its bind fails)
    while ((await objectsSeenBy(dir.consumer.url, `cn=pc1,ou=computers,${dir.suffix}`, 'pc1pw').catch(() => [])).length === 0) {
      if (Date.now() > deadline) assert.fail('the consumer did not replicate the object');
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(await objectsSeenBy(dir.consumer.url), [], 'anonymous on the replica');
    const ops = await bound(dir.consumer.url, `cn=dirops,ou=people,${dir.suffix}`, 'opspw');
    await assert.rejects(ops.add(`cn=on-replica,${container()}`, { objectClass: 'volactActivationObject', cn: 'on-replica', volactSignedObject: 'x' }), (e: { code?: number; message?: string }) => e.code === 10 || /referral/i.test(String(e.message)), 'a referral to the provider');
    await ops.unbind();
  });

  it('a directory without the schema refuses activation objects', async () => {
    const bare = await startDirectory(join(tmp.path, 'bare'), { withSchema: false, suffix: 'dc=bare,dc=test' });
    try {
      const admin = await bound(bare.provider.url, bare.admin.dn, bare.admin.password);
      await admin.add('dc=bare,dc=test', { objectClass: ['dcObject', 'organization'], o: 'Bare', dc: 'bare' });
      await assert.rejects(admin.add('cn=x,dc=bare,dc=test', { objectClass: 'volactActivationObject', cn: 'x', volactSignedObject: 'y' }), (e: { code?: number }) => e.code === 17 || e.code === 65 || e.code === 21);
      await admin.unbind();
    } finally {
      await bare.stop();
    }
  });
});
