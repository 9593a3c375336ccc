import { memoryLog } from '@volact/io';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { VolactError } from '@volact/protocol';
import { normaliseMac, normaliseUuid, parseInventorySpec } from './inventory.js';
import { LOOKUP_WAIT_MS, LibvirtInventory, parseDomainXml, runVirsh } from './libvirt-inventory.js';
import { StaticInventory, parseStaticInventory } from './static-inventory.js';

const fixture = (name: string) => readFileSync(new URL(`../src/fixtures/${name}`, import.meta.url), 'utf8');
const problem = (pattern: RegExp) => (err: unknown) =>
  err instanceof VolactError && err.code === 'INVENTORY_UNAVAILABLE' && pattern.test(err.message);

describe('UUID and MAC forms', () => {
  it('normalises the forms libvirt, Hyper-V and VMware print', () => {
    assert.equal(normaliseUuid('C7A5FDBD-EDAF-9455-926A-D65C16DB1809'), 'c7a5fdbd-edaf-9455-926a-d65c16db1809');
    assert.equal(normaliseUuid('{C7A5FDBD-EDAF-9455-926A-D65C16DB1809}'), 'c7a5fdbd-edaf-9455-926a-d65c16db1809');
    assert.equal(
      normaliseUuid('56 4d 12 34 56 78 9a bc-de f0 12 34 56 78 9a bc'),
      '564d1234-5678-9abc-def0-123456789abc',
    );
    assert.equal(normaliseUuid('c7a5fdbd-edaf-9455-926a'), undefined);
    assert.equal(normaliseMac('00-15-5D-01-02-0A'), '00:15:5d:01:02:0a');
    assert.equal(normaliseMac('00155D01020A'), '00:15:5d:01:02:0a');
    assert.equal(normaliseMac('52:54:00:zz:00:01'), undefined);
  });

  it('parses --inventory values and refuses others', () => {
    assert.deepEqual(parseInventorySpec('static:/etc/vms.json'), { kind: 'static', file: '/etc/vms.json' });
    assert.deepEqual(parseInventorySpec('libvirt'), { kind: 'libvirt', uri: 'qemu:///system' });
    assert.deepEqual(parseInventorySpec('libvirt:qemu+ssh://h/system'), {
      kind: 'libvirt',
      uri: 'qemu+ssh://h/system',
    });
    assert.throws(
      () => parseInventorySpec('vmware:x'),
      (e: unknown) => (e as VolactError).code === 'USAGE',
    );
    assert.throws(
      () => parseInventorySpec('static:'),
      (e: unknown) => (e as VolactError).code === 'USAGE',
    );
  });
});

describe('static inventory file', () => {
  const good = {
    vms: [{ uuid: 'C7A5FDBD-EDAF-9455-926A-D65C16DB1809', name: 'web1', macs: ['52-54-00-AA-BB-01', '525400aabb02'] }],
  };

  it('normalises UUIDs and MACs', () => {
    assert.deepEqual(parseStaticInventory(JSON.stringify(good), 's'), [
      { uuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809', name: 'web1', macs: ['52:54:00:aa:bb:01', '52:54:00:aa:bb:02'] },
    ]);
  });

  it('reads a file written by Windows PowerShell (UTF-8 with a byte order mark)', () => {
    assert.equal(parseStaticInventory('\uFEFF' + JSON.stringify(good), 's')[0]?.name, 'web1');
  });

  it('refuses a MAC listed for two VMs (clones would pass for each other)', () => {
    const clone = { uuid: '0f8a6c4e-1b2d-4e3f-8a9b-0c1d2e3f4a5b', name: 'clone', macs: ['52:54:00:aa:bb:01'] };
    assert.throws(
      () => parseStaticInventory(JSON.stringify({ vms: [good.vms[0], clone] }), 's'),
      problem(/vms\[1\]\.macs\[0\] 52:54:00:aa:bb:01 is also a MAC of VM c7a5fdbd/),
    );
  });

  it('names the field at fault', () => {
    const vm = good.vms[0]!;
    assert.throws(() => parseStaticInventory('{', 's'), problem(/not JSON/));
    assert.throws(() => parseStaticInventory('{"machines":[]}', 's'), problem(/vms must be a list/));
    assert.throws(
      () => parseStaticInventory(JSON.stringify({ vms: [{ ...vm, uuid: 'x' }] }), 's'),
      problem(/vms\[0\]\.uuid/),
    );
    assert.throws(
      () => parseStaticInventory(JSON.stringify({ vms: [vm, { ...vm, macs: ['52:54:00:aa:bb:03', 'nope'] }] }), 's'),
      problem(/vms\[1\]\.uuid .* listed twice/),
    );
    assert.throws(
      () =>
        parseStaticInventory(
          JSON.stringify({
            vms: [{ ...vm, uuid: '00000000-0000-0000-0000-000000000001', macs: ['52:54:00:aa:bb:03', 'nope'] }],
          }),
          's',
        ),
      problem(/vms\[0\]\.macs\[1\] is not a MAC/),
    );
    assert.throws(
      () => parseStaticInventory(JSON.stringify({ vms: [{ ...vm, macs: [] }] }), 's'),
      problem(/vms\[0\]\.macs/),
    );
  });

  const dir = mkdtempSync(join(tmpdir(), 'volact-inventory-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses a bad file at start, reloads a changed one, keeps the last good one', async () => {
    const file = join(dir, 'vms.json');
    writeFileSync(file, '{"vms": [ {');
    assert.throws(() => new StaticInventory(file, memoryLog()), problem(/static:.*vms\.json.*not JSON/));
    writeFileSync(file, JSON.stringify(good));
    const logs: string[] = [];
    const inv = new StaticInventory(file, memoryLog(logs));
    assert.equal((await inv.lookup('c7a5fdbd-edaf-9455-926a-d65c16db1809'))?.name, 'web1');
    writeFileSync(
      file,
      JSON.stringify({
        vms: [
          { ...good.vms[0], name: 'web1-renamed' },
          { uuid: '00000000-0000-0000-0000-000000000002', macs: ['52:54:00:00:00:02'] },
        ],
      }),
    );
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    assert.equal((await inv.lookup('c7a5fdbd-edaf-9455-926a-d65c16db1809'))?.name, 'web1-renamed');
    assert.equal((await inv.list()).length, 2);
    writeFileSync(file, '{"vms": 3}');
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    assert.equal((await inv.list()).length, 2, 'the last good inventory is kept');
    assert.equal(logs.filter((l) => l.includes('vms must be a list')).length, 1);
    await inv.list();
    assert.equal(logs.filter((l) => l.includes('vms must be a list')).length, 1, 'a bad version is logged once');
  });
});

describe('libvirt domain XML (recorded in libvirt/libvirt tests)', () => {
  it('reads the UUID, name and MAC of a one-interface domain', () => {
    assert.deepEqual(parseDomainXml(fixture('net-virtio.x86_64-latest.xml')), {
      uuid: 'c7a5fdbd-edaf-9455-926a-d65c16db1809',
      name: 'QEMUGuest1',
      macs: ['00:11:22:33:44:55'],
    });
  });

  it('reads every interface of every type', () => {
    assert.deepEqual(parseDomainXml(fixture('net-vhostuser-multiq.x86_64-latest.xml'))?.macs, [
      '52:54:00:ee:96:6b',
      '52:54:00:ee:96:6c',
      '52:54:00:95:db:c0',
      '52:54:00:ee:96:6d',
      '52:54:00:ee:96:6e',
    ]);
  });

  it('gives a domain without interfaces no MAC, and XML without a UUID no VM', () => {
    assert.deepEqual(parseDomainXml(fixture('minimal.x86_64-latest.xml'))?.macs, []);
    assert.equal(parseDomainXml('<domain><name>x</name></domain>'), undefined);
  });

  it('reads double quotes, upper case and escaped names; ignores a MAC outside an interface', () => {
    const xml = `<domain type="kvm" id="3"><name>a&amp;b</name><uuid>DCF47DBD-46D1-4D5B-B442-262A806A333A</uuid>
      <devices><hostdev mode='subsystem'><mac address='52:54:00:00:00:99'/></hostdev>
      <interface type="bridge"><source bridge="br0"/><mac address="52:54:00:AB:CD:EF"/><target dev="vnet0"/></interface></devices></domain>`;
    assert.deepEqual(parseDomainXml(xml), {
      uuid: 'dcf47dbd-46d1-4d5b-b442-262a806a333a',
      name: 'a&b',
      macs: ['52:54:00:ab:cd:ef'],
    });
  });
});

describe('libvirt inventory with a fake virsh on PATH', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-virsh-'));
  const path = process.env.PATH;
  after(() => {
    process.env.PATH = path;
    rmSync(dir, { recursive: true, force: true });
  });
  const calls = join(dir, 'calls');
  const domains = join(dir, 'domains');
  writeFileSync(
    join(dir, 'virsh'),
    `#!/bin/sh
echo "$*" >> "${calls}"
[ -f "${dir}/fail" ] && { echo "error: failed to connect to the hypervisor" >&2; exit 1; }
[ -f "${dir}/slow" ] && sleep 4
case "$3" in
  list) cat "${domains}/list" ;;
  dumpxml) cat "${domains}/$4.xml" || { echo "error: Domain not found" >&2; exit 1; } ;;
esac
`,
  );
  chmodSync(join(dir, 'virsh'), 0o755);

  it('lists domains, re-reads on a miss at most every 5 s, keeps the last list when virsh fails', async () => {
    process.env.PATH = `${dir}:${path}`;
    mkdirSync(domains);
    const uuid = 'c7a5fdbd-edaf-9455-926a-d65c16db1809';
    writeFileSync(join(domains, 'list'), `${uuid}\n\n`);
    writeFileSync(join(domains, `${uuid}.xml`), fixture('net-virtio.x86_64-latest.xml'));
    let now = 1_000_000;
    const logs: string[] = [];
    const inv = new LibvirtInventory('test:///default', memoryLog(logs), () => now, runVirsh);
    assert.deepEqual((await inv.lookup(uuid))?.macs, ['00:11:22:33:44:55']);
    assert.match(readFileSync(calls, 'utf8'), /-c test:\/\/\/default list --uuid\n-c test:\/\/\/default dumpxml c7a5/);
    const callCount = () => readFileSync(calls, 'utf8').trim().split('\n').length;
    const before = callCount();
    assert.equal(await inv.lookup('00000000-0000-0000-0000-000000000009'), undefined);
    assert.equal(callCount(), before, 'a miss within 5 s of the last read does not run virsh');
    now += 6_000;
    const other = 'dcf47dbd-46d1-4d5b-b442-262a806a333a';
    writeFileSync(join(domains, 'list'), `${uuid}\n${other}\n`);
    writeFileSync(
      join(domains, `${other}.xml`),
      fixture('net-vhostuser-multiq.x86_64-latest.xml').replace(/c7a5fdbd-edaf-9455-926a-d65c16db1809/, other),
    );
    assert.equal((await inv.lookup(other))?.macs.length, 5, 'a VM defined since the last read is found on a miss');
    writeFileSync(join(dir, 'fail'), '');
    now += 31_000;
    assert.equal((await inv.lookup(uuid))?.name, 'QEMUGuest1', 'an old list is served while it is read again');
    await inv.refresh();
    assert.equal((await inv.lookup(uuid))?.name, 'QEMUGuest1', 'the last list is kept');
    assert.ok(logs.some((l) => l.includes('failed to connect')));
    const fresh = new LibvirtInventory('test:///default', memoryLog(), () => now, runVirsh);
    await assert.rejects(fresh.refresh(), problem(/libvirt:test:\/\/\/default.*failed to connect/));
    rmSync(join(dir, 'fail'));
  });

  it("keeps a guest's request from waiting on a slow virsh, and accepts no MAC two running VMs share", async () => {
    process.env.PATH = `${dir}:${path}`;
    const a = 'c7a5fdbd-edaf-9455-926a-d65c16db1809';
    const b = '0f8a6c4e-1b2d-4e3f-8a9b-0c1d2e3f4a5b';
    writeFileSync(join(domains, 'list'), `${a}\n${b}\n`);
    writeFileSync(join(domains, `${a}.xml`), fixture('net-virtio.x86_64-latest.xml'));
    // a clone: another UUID, the same MAC
    writeFileSync(join(domains, `${b}.xml`), fixture('net-virtio.x86_64-latest.xml').replace(a, b));
    let now = 5_000_000;
    const logs: string[] = [];
    const inv = new LibvirtInventory('test:///default', memoryLog(logs), () => now, runVirsh);
    assert.deepEqual((await inv.lookup(a))?.macs, []);
    assert.deepEqual((await inv.lookup(b))?.macs, []);
    assert.ok(logs.some((l) => l.includes('MAC not accepted') && l.includes('00:11:22:33:44:55')));
    writeFileSync(join(dir, 'slow'), '');
    try {
      now += 6_000;
      const started = Date.now();
      assert.equal(await inv.lookup('00000000-0000-0000-0000-000000000042'), undefined);
      const waited = Date.now() - started;
      assert.ok(waited >= LOOKUP_WAIT_MS - 100 && waited < 3_500, `waited ${waited} ms`);
    } finally {
      rmSync(join(dir, 'slow'));
    }
  });
});
