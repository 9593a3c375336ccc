import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cpSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TestClockFile, tempDir, volact } from './harness/cli.js';
import { activationBody, post } from './harness/machines.js';
import type { Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const MINUTE = 60_000;
const DAY = 86_400_000;

/** The signed payload of a report file, decoded without checking (the test reads what is sent). */
const payloadOf = (file: { report: string }) =>
  JSON.parse(Buffer.from(file.report.split('.')[1]!, 'base64url').toString('utf8'));

/**
 * Usage reports end to end, with real processes: an authority and an activated host, machines
 * of several editions over two months, the host's report (no machine named in it), and the
 * authority checking it, storing it once and refusing tampered, foreign and damaged files.
 */
describe('usage reports end to end', { timeout: 300_000 }, () => {
  const tmp = tempDir('volact-usage-');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let url: string;
  let hostDir: string;
  let hostPort = 0;
  const services: Service[] = [];
  const tokens: Record<'issue' | 'read', string> = { issue: '', read: '' };
  const machineIds: string[] = [];
  const machineName = 'finance-laptop-0042';
  let reportPath = '';

  const must = async (args: string[]) => {
    const r = await volact(args, clock.env());
    assert.equal(r.code, 0, `volact ${args.join(' ')}: ${r.stdout}${r.stderr}`);
    return r;
  };

  /**
   * One raw activation request from a machine (as its agent would send), at the host's time:
   * 'granted', 'COUNT_INSUFFICIENT' or the refusal's code, read from the signed answer.
   */
  async function ask(machineId: string, edition: string, extra: Record<string, unknown> = {}): Promise<string> {
    const body = activationBody(world.setupKeys[edition]!, clock.t, { machineId, ...extra });
    const r = await post(hostPort, '/v1/activate', JSON.stringify(body));
    assert.equal(typeof r.body.answer, 'string', JSON.stringify(r.body));
    const [h, p] = (r.body.answer as string)
      .split('.')
      .slice(0, 2)
      .map((x) => JSON.parse(Buffer.from(x, 'base64url').toString()));
    if (h.typ === 'volact.grant') return 'granted';
    return h.typ === 'volact.count-insufficient' ? 'COUNT_INSUFFICIENT' : (p.code as string);
  }

  async function activatedHost(w: AuthorityWorld, authorityUrl: string, name: string): Promise<[string, Service]> {
    const dir = join(tmp.path, name);
    const host = await startHost(dir, { root: w.rootPub, authority: authorityUrl, env: clock.env() });
    services.push(host);
    const key = await w.issueHostKey('server-2026');
    await must(['slmgr', '--host', dir, '-ipk', key]);
    await must(['slmgr', '--host', dir, '-ato', '--json']);
    return [dir, host];
  }

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 20, 9));
    world = await makeAuthority(tmp.path, clock.env());
    const authority = await world.serve();
    services.push(authority);
    url = `http://127.0.0.1:${authority.port}`;
    for (const scope of ['issue', 'read'] as const) {
      const t = await must([
        'authority',
        'token',
        'create',
        '--dir',
        world.dir,
        '--name',
        scope,
        '--scope',
        scope,
        '--json',
      ]);
      tokens[scope] = join(tmp.path, `${scope}.token`);
      writeFileSync(tokens[scope], t.json.token as string, { mode: 0o600 });
    }
    let host: Service;
    [hostDir, host] = await activatedHost(world, url, 'host');
    hostPort = host.port;
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    tmp.cleanup();
  });

  it('refuses a report from a host that was never activated, and a period that is not one', async () => {
    const dir = join(tmp.path, 'idle-host');
    services.push(await startHost(dir, { root: world.rootPub, authority: url, env: clock.env() }));
    const out = join(tmp.path, 'idle.json');
    const r = await volact(
      ['host', 'usage-report', '--state', dir, '--from', '2026-11', '--to', '2026-11', '--out', out, '--json'],
      clock.env(),
    );
    assert.equal(r.code, 5, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'HOST_NOT_ACTIVATED');
    for (const [from, to] of [
      ['2026-13', '2026-12'],
      ['2026-12', '2026-11'],
      ['2026-02-30', '2026-03'],
      ['2027-01', '2027-02'],
      ['2010-01', '2026-12'],
    ]) {
      const p = await volact(
        ['host', 'usage-report', '--state', hostDir, '--from', from!, '--to', to!, '--out', out, '--json'],
        clock.env(),
      );
      assert.equal(p.code, 2, `${from}..${to}: ${p.stdout}${p.stderr}`);
      assert.equal(p.json.error.code, 'USAGE_PERIOD_INVALID', `${from}..${to}`);
    }
    assert.throws(() => statSync(out), 'no file is written for a refused report');
  });

  it('reports machines per edition and month and the peak count, naming no machine', async () => {
    const id = (p: string) => {
      const m = `${p}-${machineIds.length}-7f3c9a`;
      machineIds.push(m);
      return m;
    };
    // November: three Standard and two Datacenter machines reach the server threshold of 5
    const standard = [id('std'), id('std'), id('std')];
    const datacenter = [id('dc'), id('dc')];
    for (const m of standard) assert.equal(await ask(m, 'server-standard'), 'COUNT_INSUFFICIENT');
    assert.equal(await ask(datacenter[0]!, 'server-datacenter'), 'COUNT_INSUFFICIENT');
    clock.advance(MINUTE);
    assert.equal(await ask(datacenter[1]!, 'server-datacenter'), 'granted', 'the fifth is activated');
    for (const m of [...standard, datacenter[0]!]) {
      const edition = standard.includes(m) ? 'server-standard' : 'server-datacenter';
      assert.equal(await ask(m, edition), 'granted', `${m} activated at its retry`);
    }
    // a desk machine (25 needed) waits, and one Standard machine's clock is a day off
    clock.advance(10 * MINUTE);
    const desk = id('desk');
    assert.equal(await ask(desk, 'desk-pro', { machineName }), 'COUNT_INSUFFICIENT');
    const novemberPeakAt = clock.t;
    const skewed = id('skew');
    assert.equal(await ask(skewed, 'server-standard', { clientTime: clock.t - DAY }), 'CLOCK_SKEW');

    // December: one machine renews, a new Essentials machine is activated at count 7
    clock.set(Date.UTC(2026, 11, 3, 9));
    assert.equal(await ask(standard[0]!, 'server-standard', { licenseState: 'licensed' }), 'granted');
    const essentials = id('ess');
    assert.equal(await ask(essentials, 'server-essentials'), 'granted');
    const decemberPeakAt = clock.t;
    clock.advance(MINUTE);

    reportPath = join(tmp.path, 'usage-2026-11.json');
    const r = await must([
      'host',
      'usage-report',
      '--state',
      hostDir,
      '--from',
      '2026-11',
      '--to',
      '2026-12',
      '--out',
      reportPath,
      '--json',
    ]);
    assert.equal(statSync(reportPath).mode & 0o777, 0o644, 'readable: it is for sending');
    const nowhere = join(tmp.path, 'no-such-dir', 'r.json');
    const refused = await volact(
      ['host', 'usage-report', '--state', hostDir, '--from', '2026-11', '--to', '2026-12', '--out', nowhere],
      clock.env(),
    );
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /Error USAGE: cannot write the usage report file .*no-such-dir.* \(ENOENT\)/);
    assert.doesNotMatch(refused.stderr, /at |bug/, 'a plain message, no stack');
    const text = readFileSync(reportPath, 'utf8');
    const file = JSON.parse(text);
    const report = payloadOf(file);
    assert.deepEqual(r.json.report, report, 'the command prints what it signed');
    assert.equal(file.kind, 'volact.usage-report-file');
    assert.equal(report.from, '2026-11-01');
    assert.equal(report.to, '2026-12-31');
    // the host's database began on 20 November (its first checkpoint, before any request): the
    // report claims nothing for the days before, though they are within the 90 days kept
    assert.ok(
      report.coveredFrom >= Date.UTC(2026, 10, 20, 9) && report.coveredFrom < Date.UTC(2026, 10, 20, 10),
      `covered from the host's first start, not from 1 November: ${new Date(report.coveredFrom).toISOString()}`,
    );
    assert.equal(report.coveredTo, clock.t, 'December is covered up to now, not to its end');
    assert.deepEqual(report.groups, ['server-2026']);
    const counts = (month: string) =>
      Object.fromEntries(
        report.months
          .find((m: { month: string }) => m.month === month)
          .editions.map((e: Record<string, unknown>) => [e.code, [e.granted, e.waiting, e.refused, e.requests]]),
      );
    assert.deepEqual(counts('2026-11'), {
      'server-standard': [3, 3, 1, 7],
      'server-datacenter': [2, 1, 0, 3],
      'desk-pro': [0, 1, 0, 1],
    });
    assert.deepEqual(counts('2026-12'), { 'server-standard': [1, 0, 0, 1], 'server-essentials': [1, 0, 0, 1] });
    assert.deepEqual(report.months[0].peak, { count: 6, at: novemberPeakAt });
    assert.deepEqual(report.peak, { count: 7, at: decemberPeakAt });
    const decoded = JSON.stringify(report);
    for (const secret of [...machineIds, machineName, '127.0.0.1'])
      assert.ok(!text.includes(secret) && !decoded.includes(secret), `${secret} is not in the report`);
  });

  it('verifies and stores the report once; lists it without machines', async () => {
    const first = await must([
      'authority',
      'verify-usage',
      reportPath,
      '--url',
      url,
      '--token-file',
      tokens.issue,
      '--json',
    ]);
    assert.equal(first.json.outcome, 'stored');
    assert.match(first.json.report.id, /^UR-/);
    const again = await must(['authority', 'verify-usage', reportPath, '--dir', world.dir, '--json']);
    assert.equal(again.json.outcome, 'alreadyStored', 'the same report twice is stored once');
    assert.equal(again.json.report.id, first.json.report.id);
    const human = await must(['authority', 'verify-usage', reportPath, '--dir', world.dir]);
    assert.match(human.stdout, /already stored/);

    const listed = await must(['authority', 'usage', '--url', url, '--token-file', tokens.read, '--json']);
    assert.equal(listed.json.length, 1);
    assert.equal(listed.json[0].hostId, first.json.report.hostId);
    assert.equal(listed.json[0].report.peak.count, 7);
    const table = await must(['authority', 'usage', '--dir', world.dir]);
    assert.match(table.stdout, /server-standard:3/);
    assert.match(table.stdout, /2026-11-01\.\.2026-12-31/);

    const readOnly = await volact(
      ['authority', 'verify-usage', reportPath, '--url', url, '--token-file', tokens.read, '--json'],
      clock.env(),
    );
    assert.equal(readOnly.code, 5);
    assert.equal(readOnly.json.error.code, 'TOKEN_SCOPE', 'a read token never writes');
  });

  it('refuses a tampered, damaged or oversized report and keeps serving', async () => {
    const file = JSON.parse(readFileSync(reportPath, 'utf8'));
    const [h, p, s] = file.report.split('.');
    const changed = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    changed.months[0].editions[0].granted = 1;
    const tampered = join(tmp.path, 'tampered.json');
    writeFileSync(
      tampered,
      JSON.stringify({ ...file, report: [h, Buffer.from(JSON.stringify(changed)).toString('base64url'), s].join('.') }),
    );
    const garbage = join(tmp.path, 'garbage.json');
    writeFileSync(garbage, 'GIF89a\u0000\u0001 not a report');
    const truncated = join(tmp.path, 'truncated.json');
    const whole = readFileSync(reportPath, 'utf8');
    writeFileSync(truncated, whole.slice(0, whole.length / 2));
    const shape = join(tmp.path, 'shape.json');
    writeFileSync(shape, JSON.stringify({ ...file, certificates: [] }));
    const huge = join(tmp.path, 'huge.json');
    writeFileSync(huge, Buffer.alloc(4 * 1024 * 1024 + 1, 0x20));
    for (const [path, code, exit] of [
      [tampered, 'SIGNATURE_INVALID', 7],
      [garbage, 'USAGE_REPORT_INVALID', 7],
      [truncated, 'USAGE_REPORT_INVALID', 7],
      [shape, 'USAGE_REPORT_INVALID', 7],
      [huge, 'FILE_TOO_LARGE', 2],
    ] as const) {
      for (const where of [
        ['--url', url, '--token-file', tokens.issue],
        ['--dir', world.dir],
      ]) {
        const r = await volact(['authority', 'verify-usage', path, ...where, '--json'], clock.env());
        assert.equal(r.code, exit, `${path} ${where[0]}: ${r.stdout}${r.stderr}`);
        assert.equal(r.json.error.code, code, path);
      }
    }
    const listed = await must(['authority', 'usage', '--url', url, '--token-file', tokens.read, '--json']);
    assert.equal(listed.json.length, 1, 'nothing refused was stored');
  });

  it('answers the admin API with the token checked first, a bounded body and stable codes', async () => {
    const port = Number(new URL(url).port);
    const path = '/v1/admin/usage-reports';
    const text = readFileSync(reportPath, 'utf8');
    const bearer = (scope: 'issue' | 'read') => ({ authorization: `Bearer ${readFileSync(tokens[scope], 'utf8')}` });
    assert.equal((await post(port, path, text)).body.code, 'TOKEN_MISSING');
    assert.equal((await post(port, path, text, { headers: bearer('read') })).body.code, 'TOKEN_SCOPE');
    const big = await post(port, path, Buffer.alloc(4 * 1024 * 1024 + 1024, 0x20), { headers: bearer('issue') });
    assert.equal(big.status, 413);
    assert.equal(big.body.code, 'BODY_TOO_LARGE');
    const file = JSON.parse(text);
    const other = await post(port, path, JSON.stringify({ ...file, report: file.certificates[0].issuer }), {
      headers: bearer('issue'),
    });
    assert.equal(other.status, 400);
    assert.equal(other.body.code, 'DOCUMENT_TYPE', 'another signed document in place of the report');
    const again = await post(port, path, text, { headers: bearer('issue') });
    assert.equal(again.status, 200);
    assert.equal(again.body.outcome, 'alreadyStored');
  });

  it("refuses a report from another publisher's host and from a host this authority did not activate", async () => {
    // another publisher: its own authority and root
    const other = await makeAuthority(join(tmp.path, 'other'), clock.env());
    const otherAuthority = await other.serve();
    services.push(otherAuthority);
    const [otherDir] = await activatedHost(other, `http://127.0.0.1:${otherAuthority.port}`, 'other-host');
    const foreign = join(tmp.path, 'foreign.json');
    await must(['host', 'usage-report', '--state', otherDir, '--from', '2026-12', '--to', '2026-12', '--out', foreign]);
    const r = await volact(
      ['authority', 'verify-usage', foreign, '--url', url, '--token-file', tokens.issue, '--json'],
      clock.env(),
    );
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'CHAIN_UNTRUSTED_ROOT');

    // our root, but a copy of the authority whose database never saw the host
    const copy = join(tmp.path, 'authority-copy');
    cpSync(world.dir, copy, { recursive: true });
    for (const f of ['authority.db', 'authority.db-wal', 'authority.db-shm']) rmSync(join(copy, f), { force: true });
    const unknown = await volact(['authority', 'verify-usage', reportPath, '--dir', copy, '--json'], clock.env());
    assert.equal(unknown.code, 7, unknown.stdout + unknown.stderr);
    assert.equal(unknown.json.error.code, 'USAGE_REPORT_HOST_UNKNOWN');
  });
});
