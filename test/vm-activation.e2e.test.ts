import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { TestClockFile, tempDir, volact, type CliResult } from './harness/cli.js';
import { labUnavailable, makeLab, type Guest, type Lab } from './harness/netns.js';
import { startService, type Service } from './harness/processes.js';
import { makeAuthority, type AuthorityWorld } from './harness/world.js';

/**
 * Automatic VM activation with real processes and real network isolation (issue 12): hypervisors
 * are network namespaces with a bridge, guests namespaces whose only link is a veth on that bridge,
 * and a "physical" machine a namespace on no bridge. The authority is on this machine's loopback,
 * which no namespace can reach: agents activate online before they move into their namespace, or
 * offline with typed codes from inside it, and never call out again.
 */

const DAY = 86_400_000;
const AGENT = '169.254.16.88';
const unavailable = labUnavailable();

const catalogFile = {
  products: [
    {
      code: 'srv',
      name: 'Example Server',
      editions: [
        { number: 101, code: 'srv-std', name: 'Server Standard', kind: 'server', guest: true },
        { number: 102, code: 'srv-dc', name: 'Server Datacenter', kind: 'server', guest: true },
        { number: 103, code: 'srv-ess', name: 'Server Essentials', kind: 'server', guest: true },
        { number: 104, code: 'srv-core', name: 'Server Core (hosts only)', kind: 'server' },
      ],
    },
  ],
  groups: [
    { number: 201, code: 'srv-guests', name: 'Server guests', kind: 'server', editions: ['srv-std', 'srv-dc'] },
    { number: 202, code: 'ess-guests', name: 'Essentials guests', kind: 'server', editions: ['srv-ess'] },
  ],
};

type Vm = { name: string; uuid: string; mac: string; address: string };
const vm = (n: number, name: string): Vm => ({
  name,
  uuid: randomUUID(),
  mac: `52:54:00:00:00:${n.toString(16).padStart(2, '0')}`,
  address: `169.254.20.${n}`,
});

describe('automatic VM activation through the hypervisor agent', { skip: unavailable ?? false }, () => {
  let lab: Lab;
  let base: { path: string; cleanup: () => void };
  let clock: TestClockFile;
  let env: Record<string, string>;
  let authority: AuthorityWorld;
  let forger: AuthorityWorld;
  let authorityService: Service;
  let forgerService: Service;
  const services: Service[] = [];
  const vmKeys: Record<string, string> = {};
  const inventory = join('/tmp', `volact-inventory-${process.pid}.json`);
  const g1 = vm(11, 'web-1');
  const g2 = vm(12, 'db-1');
  const g3 = vm(13, 'ess-1');
  const gf = vm(14, 'forged-guest');
  const hv: Record<string, string> = {};
  const dirs: Record<string, string> = {};
  let guest1: Guest;
  let guest2: Guest;

  const must = (r: CliResult, what: string) => {
    assert.equal(r.code, 0, `${what} failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r;
  };
  /** `volact slmgr` in a guest's namespace with its own state directory, fingerprint and VM UUID. */
  const guestRun = (ns: string, g: Vm, args: string[], claim = g.uuid) => {
    writeFileSync(join(base.path, `${g.name}.uuid`), claim + '\n');
    return volact(
      ['slmgr', '--state', join(base.path, 'guests', g.name), '--json', ...args],
      {
        ...env,
        VOLACT_VM_UUID_FILE: join(base.path, `${g.name}.uuid`),
        VOLACT_FINGERPRINT_FILE: join(base.path, `${g.name}.fp.json`),
      },
      ns,
    );
  };
  const setUpGuest = async (ns: string, g: Vm, edition: string, root = authority.rootPub) => {
    writeFileSync(
      join(base.path, `${g.name}.fp.json`),
      JSON.stringify({ osId: `os-${g.uuid}`, cpu: 'cpu', board: g.uuid, disks: [`disk-${g.name}`], nics: [g.mac] }),
    );
    must(
      await volact(['client', 'trust', root, '--state', join(base.path, 'guests', g.name)], env, ns),
      `trust on ${g.name}`,
    );
    must(await guestRun(ns, g, ['-ipk', vmKeys[edition]!]), `-ipk on ${g.name}`);
  };
  /** Starts an agent; `ns` undefined runs it on loopback (to activate online), else in that namespace. */
  const startAgent = async (name: string, ns?: string, extra: string[] = []) => {
    const s = await startService(
      [
        'hypervisor',
        'serve',
        '--state',
        dirs[name]!,
        '--inventory',
        `static:${inventory}`,
        '--name',
        name,
        '--listen',
        ns ? `${AGENT}:1689` : '127.0.0.1:0',
        ...extra,
      ],
      env,
      undefined,
      ns,
    );
    services.push(s);
    return s;
  };
  const hypervisorSlmgr = (name: string, args: string[]) =>
    volact(['slmgr', '--hypervisor', dirs[name]!, '--json', ...args], env);
  /** Activates an agent online from loopback, then serves it in its namespace. */
  const onlineAgent = async (name: string, world: AuthorityWorld, service: Service, group: string) => {
    const issued = must(
      await volact(['authority', 'issue-datacenter-key', '--dir', world.dir, '--group', group, '--json'], env),
      'issue-datacenter-key',
    ).json as { key: string };
    const s = await startAgent(name, undefined, [
      '--root',
      world.rootPub,
      '--authority',
      `http://127.0.0.1:${service.port}`,
    ]);
    must(await hypervisorSlmgr(name, ['-ipk', issued.key]), `-ipk on agent ${name}`);
    must(await hypervisorSlmgr(name, ['-ato']), `-ato on agent ${name}`);
    await s.stop();
    return startAgent(name, hv[name]);
  };
  const events_ = async (name: string) =>
    must(await volact(['hypervisor', 'events', '--state', dirs[name]!, '--json'], env), 'hypervisor events').json as {
      vmUuid: string;
      outcome: string;
      reason?: string | null;
      event: number;
    }[];

  before(async () => {
    lab = makeLab();
    base = tempDir('volact-vm-');
    clock = new TestClockFile(join(base.path, 'clock'), Date.UTC(2026, 11, 5, 9));
    env = clock.env();
    writeFileSync(join(base.path, 'catalog.json'), JSON.stringify(catalogFile));
    authority = await makeAuthority(join(base.path, 'a'), env);
    forger = await makeAuthority(join(base.path, 'f'), env);
    for (const w of [authority, forger])
      must(
        await volact(['authority', 'import-catalog', '--dir', w.dir, join(base.path, 'catalog.json'), '--json'], env),
        'import-catalog',
      );
    const catalog = must(await volact(['authority', 'catalog', '--dir', authority.dir, '--json'], env), 'catalog')
      .json as { editions: { code: string; vmKey?: string }[] };
    for (const e of catalog.editions) if (e.vmKey) vmKeys[e.code] = e.vmKey;
    authorityService = await authority.serve();
    forgerService = await forger.serve();
    services.push(authorityService, forgerService);
    writeFileSync(
      inventory,
      JSON.stringify({ vms: [g1, g2, g3, gf].map(({ name, uuid, mac }) => ({ name, uuid, macs: [mac] })) }),
    );
    for (const name of ['hv1', 'hv2', 'hv3', 'hvf']) {
      hv[name] = await lab.hypervisor(name);
      dirs[name] = join(base.path, 'agents', name);
    }
    guest1 = await lab.guest('g1', hv.hv1!, g1.mac, g1.address);
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    lab?.cleanup();
    base?.cleanup();
    writeFileSync(inventory, '');
  });

  test('the catalog lists a public VM key for each guest edition only', () => {
    assert.deepEqual(Object.keys(vmKeys).sort(), ['srv-dc', 'srv-ess', 'srv-std']);
    assert.equal(new Set(Object.values(vmKeys)).size, 3);
  });

  test('an agent that is not activated gives invalid host; activated offline from inside its namespace, it activates a guest with no other network', async () => {
    must(
      await volact(
        ['authority', 'offline-bundle', '--dir', authority.dir, '--out', join(base.path, 'offline.json')],
        env,
      ),
      'offline-bundle',
    );
    await startAgent('hv1', hv.hv1, ['--root', join(base.path, 'offline.json')]);
    await setUpGuest(guest1.ns, g1, 'srv-std');
    const before = await guestRun(guest1.ns, g1, ['-ato']);
    assert.equal(before.code, 7, before.stdout + before.stderr);
    assert.match(before.stdout + before.stderr, /VM_INVALID_HOST/);

    const dk = must(
      await volact(
        ['authority', 'issue-datacenter-key', '--dir', authority.dir, '--group', 'srv-guests', '--json'],
        env,
      ),
      'issue-datacenter-key',
    ).json as { key: string };
    must(await hypervisorSlmgr('hv1', ['-ipk', dk.key]), '-ipk');
    const dti = must(await hypervisorSlmgr('hv1', ['-dti']), '-dti').json as { keys: { installationId: string }[] };
    const confirmed = must(
      await volact(['authority', 'confirm', '--dir', authority.dir, dti.keys[0]!.installationId, '--json'], env),
      'confirm',
    ).json as { confirmationId: string };
    must(await hypervisorSlmgr('hv1', ['-atp', confirmed.confirmationId]), '-atp');

    // the guest's only link is its cable to the bridge: no default route, no other address
    const routes = (await lab.exec(guest1.ns, 'ip', ['route', 'show'])).stdout;
    assert.doesNotMatch(routes, /default/);
    const ato = await guestRun(guest1.ns, g1, ['-ato']);
    assert.equal(ato.code, 0, ato.stdout + ato.stderr);
    const dlv = must(await guestRun(guest1.ns, g1, ['-dlv']), '-dlv').json;
    assert.equal(dlv.licenseState, 'licensed');
    assert.equal(dlv.vm.guestId, g1.uuid);
    assert.equal(dlv.vm.hypervisorName, 'hv1');
    assert.match(dlv.vm.hypervisorId, /^V/);
    assert.equal(Date.parse(dlv.vm.validUntil) - Date.parse(dlv.vm.activatedAt), 7 * DAY);
    const xpr = await volact(
      ['slmgr', '--state', join(base.path, 'guests', g1.name), '-xpr'],
      {
        ...env,
        VOLACT_VM_UUID_FILE: join(base.path, `${g1.name}.uuid`),
        VOLACT_FINGERPRINT_FILE: join(base.path, `${g1.name}.fp.json`),
      },
      guest1.ns,
    );
    assert.match(xpr.stdout, /Automatic VM activation will expire/);

    const seen = await events_('hv1');
    assert.deepEqual(
      seen.filter((e) => e.vmUuid === g1.uuid).map((e) => [e.event, e.outcome]),
      [
        [12310, 'invalidHost'],
        [12310, 'success'],
      ],
    );
  });

  test('an edition outside the datacenter key is denied', async () => {
    const guest3 = await lab.guest('g3', hv.hv1!, g3.mac, g3.address);
    await setUpGuest(guest3.ns, g3, 'srv-ess');
    const r = await guestRun(guest3.ns, g3, ['-ato']);
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.equal(r.json?.error?.code, 'VM_DENIED');
    assert.equal(r.json?.error?.params?.reason, 'edition');
  });

  test("a machine on the bridge whose MAC is not in the inventory, or that claims another VM's UUID, is denied", async () => {
    const rogue = await lab.guest('rg', hv.hv1!, '52:54:00:66:66:66', '169.254.20.66');
    const impostor: Vm = { ...g1, name: 'rogue' };
    await setUpGuest(rogue.ns, impostor, 'srv-std');
    const r1 = await guestRun(rogue.ns, impostor, ['-ato']);
    assert.equal(r1.json?.error?.code, 'VM_DENIED', r1.stdout + r1.stderr);
    assert.equal(r1.json?.error?.params?.reason, 'interface');

    guest2 = await lab.guest('g2', hv.hv1!, g2.mac, g2.address);
    await setUpGuest(guest2.ns, g2, 'srv-std');
    const r2 = await guestRun(guest2.ns, g2, ['-ato'], g1.uuid);
    assert.equal(r2.json?.error?.code, 'VM_DENIED', r2.stdout + r2.stderr);
    assert.equal(r2.json?.error?.params?.reason, 'interface');

    const r3 = await guestRun(guest2.ns, g2, ['-ato'], randomUUID());
    assert.equal(r3.json?.error?.code, 'VM_DENIED', r3.stdout + r3.stderr);
    assert.equal(r3.json?.error?.params?.reason, 'inventory');

    // the real g2, from its own interface, is activated
    const r4 = await guestRun(guest2.ns, g2, ['-ato']);
    assert.equal(r4.code, 0, r4.stdout + r4.stderr);
  });

  test('a physical machine gets "not a virtual machine", also one with a route to the agent that copies a VM\'s MAC and UUID', async () => {
    const ns = await lab.physical('ph', '169.254.30.1');
    const pc: Vm = { name: 'pc', uuid: randomUUID(), mac: '02:00:00:00:00:01', address: '169.254.30.1' };
    await setUpGuest(ns, pc, 'srv-std');
    const r = await guestRun(ns, pc, ['-ato']);
    assert.equal(r.code, 6, r.stdout + r.stderr);
    assert.equal(r.json?.error?.code, 'NOT_A_VM');

    // on the hypervisor's LAN, not its guest bridge: the agent's kernel takes the packets, but
    // the agent answers only on the bridge, so this machine sees no agent at all
    const events = (await events_('hv1')).length;
    const lan = await lab.physical('pl', '169.254.99.2', { hypervisorNs: hv.hv1!, mac: g1.mac });
    const copycat: Vm = { ...g1, name: 'copycat' };
    await setUpGuest(lan, copycat, 'srv-std');
    const r2 = await guestRun(lan, copycat, ['-ato']);
    assert.equal(r2.json?.error?.code, 'NOT_A_VM', r2.stdout + r2.stderr);
    assert.equal((await events_('hv1')).length, events, 'the agent recorded nothing for it');
  });

  test('bad input on the guest channel gets a stable 4xx, and the agent keeps serving', async () => {
    const probe = `
      const url = 'http://${AGENT}:1689/v1/activate';
      const send = async (body, type = 'application/json') => {
        const r = await fetch(url, { method: 'POST', headers: { 'content-type': type }, body });
        const j = await r.json().catch(() => ({}));
        return [r.status, j.code];
      };
      const out = [
        await send('{not json'),
        await send(JSON.stringify({ v: 1, vmUuid: 42 })),
        await send('x'.repeat(100000)),
        await send('{}', 'text/plain'),
        await send(JSON.stringify({ v: 1, vmUuid: '${g1.uuid}', machineId: 'm', fingerprintHash: '${'A'.repeat(43)}', vmKey: 'nope', nonce: '${'n'.repeat(22)}', clientTime: Date.now() })),
      ];
      console.log(JSON.stringify(out));`;
    const { stdout } = await lab.exec(guest1.ns, process.execPath, ['-e', probe]);
    const answers = JSON.parse(stdout) as [number, string][];
    assert.deepEqual(
      answers.map(([s]) => s),
      [400, 400, 413, 415, 400],
    );
    for (const [, code] of answers) assert.match(code, /^[A-Z_]+$/);
    const again = await guestRun(guest1.ns, g1, ['-ato']);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  });

  test('a tampered grant is refused', async () => {
    const file = join(base.path, 'guests', g1.name, 'license.json');
    const original = readFileSync(file, 'utf8');
    const license = JSON.parse(original) as { vm: { grant: string } };
    const [h, p, s] = license.vm.grant.split('.');
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString()) as { validUntil: number };
    payload.validUntil += 365 * DAY;
    license.vm.grant = [h, Buffer.from(JSON.stringify(payload)).toString('base64url'), s].join('.');
    writeFileSync(file, JSON.stringify(license));
    const dli = await guestRun(guest1.ns, g1, ['-dli']);
    assert.equal(dli.code, 1, dli.stdout + dli.stderr);
    assert.equal(dli.json?.error?.code, 'STATE_CORRUPT');
    assert.match(dli.json?.error?.message, /license\.json/);
    must(await guestRun(guest1.ns, g1, ['-ato']), '-ato after tampering');
    assert.equal((await guestRun(guest1.ns, g1, ['-dli'])).json?.licenseState, 'licensed');
  });

  test('an agent certified by another root is refused as an invalid host', async () => {
    await onlineAgent('hvf', forger, forgerService, 'srv-guests');
    const guestF = await lab.guest('gf', hv.hvf!, gf.mac, gf.address);
    // the forged agent knows only its own publisher's VM keys; the guest, which cannot tell VM
    // keys apart (they are public), installs one of those, and gets a signed grant it must refuse
    const forged = must(await volact(['authority', 'catalog', '--dir', forger.dir, '--json'], env), 'catalog').json as {
      editions: { code: string; vmKey?: string }[];
    };
    vmKeys['forged-std'] = forged.editions.find((e) => e.code === 'srv-std')!.vmKey!;
    await setUpGuest(guestF.ns, gf, 'forged-std');
    const r = await guestRun(guestF.ns, gf, ['-ato']);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.equal(r.json?.error?.code, 'VM_INVALID_HOST');
    assert.match(r.json?.error?.message, /pinned|root/);
    const seen = await events_('hvf');
    assert.equal(seen.at(-1)?.outcome, 'success'); // the forged agent granted; the guest refused it
  });

  test('an agent restart keeps its guest list', async () => {
    const agent = services.find((s) => s.child.spawnargs.includes(dirs.hv1!) && s.child.exitCode === null)!;
    await agent.stop();
    await startAgent('hv1', hv.hv1);
    const guests = must(await volact(['hypervisor', 'guests', '--state', dirs.hv1!, '--json'], env), 'guests').json as {
      vmUuid: string;
      edition: string | number;
      lastOutcome: string;
      grantedUntil: string | null;
    }[];
    const first = guests.find((g) => g.vmUuid === g1.uuid);
    assert.ok(first, JSON.stringify(guests));
    assert.equal(first.lastOutcome, 'success');
    assert.ok(first.grantedUntil);
    assert.ok(guests.some((g) => g.vmUuid === g3.uuid && g.lastOutcome === 'denied'));
  });

  test('a guest migrated to another entitled agent activates there; moved to one that is not, it keeps its grant until it expires, then falls into grace', async () => {
    const before = must(await guestRun(guest1.ns, g1, ['-dlv']), '-dlv').json;
    await onlineAgent('hv2', authority, authorityService, 'srv-guests');
    await onlineAgent('hv3', authority, authorityService, 'ess-guests');

    await lab.migrate(guest1, hv.hv2!);
    clock.advance(DAY);
    must(await guestRun(guest1.ns, g1, ['-ato']), '-ato on hv2');
    const moved = must(await guestRun(guest1.ns, g1, ['-dlv']), '-dlv').json;
    assert.equal(moved.vm.hypervisorName, 'hv2');
    assert.notEqual(moved.vm.hypervisorId, before.vm.hypervisorId);

    await lab.migrate(guest1, hv.hv3!);
    clock.advance(DAY);
    const denied = await guestRun(guest1.ns, g1, ['-ato']);
    assert.equal(denied.json?.error?.code, 'VM_DENIED', denied.stdout + denied.stderr);
    const kept = must(await guestRun(guest1.ns, g1, ['-dli']), '-dli').json;
    assert.equal(kept.licenseState, 'licensed');

    clock.advance(6 * DAY);
    const expired = must(await guestRun(guest1.ns, g1, ['-dli']), '-dli').json;
    assert.equal(expired.licenseState, 'ootGrace');
  });

  test('7 days without its agent, a guest falls into grace', async () => {
    must(await guestRun(guest2.ns, g2, ['-ato']), '-ato on g2');
    for (const s of services) if (s.child.spawnargs.includes(dirs.hv1!)) await s.stop();
    clock.advance(7 * DAY - 60_000);
    assert.equal((await guestRun(guest2.ns, g2, ['-dli'])).json?.licenseState, 'licensed');
    clock.advance(2 * 60_000);
    assert.equal((await guestRun(guest2.ns, g2, ['-dli'])).json?.licenseState, 'ootGrace');
    const r = await guestRun(guest2.ns, g2, ['-ato']);
    assert.equal(r.json?.error?.code, 'NOT_A_VM', r.stdout + r.stderr);
  });
});
