import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TestClockFile, tempDir, volact, type CliResult } from './harness/cli.js';
import { activationBody, post } from './harness/machines.js';
import type { Service } from './harness/processes.js';
import { makeAuthority, startHost, type AuthorityWorld } from './harness/world.js';

const DAY = 86_400_000;

/** Runs SQL on a host.db with the sqlite3 command-line tool, as someone editing the file by hand would. */
function sqlite(db: string, sql: string): string {
  return execFileSync('sqlite3', [db, sql], { encoding: 'utf8' }).trim();
}

/**
 * The tamper-evident host log with real processes: an authority and an activated host on
 * loopback, machines activating and settings changed through the CLI, then host.db edited,
 * cut and reordered with sqlite3; `volact host verify-log` must name the first bad record.
 */
describe('host log: volact host verify-log', { timeout: 600_000 }, () => {
  const tmp = tempDir('volact-log-e2e-');
  const hostDir = join(tmp.path, 'host');
  let clock: TestClockFile;
  let world: AuthorityWorld;
  let url: string;
  let host: Service | undefined;
  const services: Service[] = [];

  const verify = (dir: string, json = true): Promise<CliResult> =>
    volact(['host', 'verify-log', '--state', dir, ...(json ? ['--json'] : [])], clock.env());
  const activate = async (n: number) => {
    for (let i = 0; i < n; i++) {
      const r = await post(
        host!.port,
        '/v1/activate',
        JSON.stringify(activationBody(world.setupKeys['desk-pro']!, clock.t)),
      );
      assert.equal(r.status, 200, JSON.stringify(r.body));
      clock.advance(60_000);
    }
  };
  const slmgrHost = async (...args: string[]) => {
    const r = await volact(['slmgr', '--host', hostDir, ...args], clock.env());
    assert.equal(r.code, 0, r.stdout + r.stderr);
  };

  before(async () => {
    clock = new TestClockFile(join(tmp.path, 'clock'), Date.UTC(2026, 10, 1, 9));
    world = await makeAuthority(tmp.path, clock.env());
    const authority = await world.serve();
    services.push(authority);
    url = `http://127.0.0.1:${authority.port}`;
    host = await startHost(hostDir, { root: world.rootPub, authority: url, env: clock.env() });
    services.push(host);
    await slmgrHost('-ipk', await world.issueHostKey('desk-2026'));
    await slmgrHost('-ato');
  });

  after(async () => {
    await Promise.all(services.map((s) => s.stop()));
    tmp.cleanup();
  });

  let intact: CliResult;

  it('verifies the log of a running host: events and settings changes in one chain', async () => {
    await activate(4);
    await slmgrHost('-sai', '60');
    await activate(3);
    await slmgrHost('-sri', '1440');
    await activate(3);
    const r = await verify(hostDir);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.json.intact, true);
    assert.equal(r.json.activated, true);
    // the settings of the first start (authority URL, name, address) and the two changes, with the ten events
    const settings = Number(sqlite(join(hostDir, 'host.db'), 'SELECT count(*) FROM settings_log'));
    assert.ok(settings >= 2, `settings changes chained: ${settings}`);
    assert.equal(r.json.records, 10 + settings);
    assert.equal(r.json.firstSeq, 1);
    assert.equal(r.json.lastSeq, 10 + settings);
  });

  it('signs a checkpoint of the head at a clean shutdown; the stopped host verifies intact', async () => {
    await host!.stop();
    intact = await verify(hostDir);
    assert.equal(intact.code, 0, intact.stdout + intact.stderr);
    assert.equal(intact.json.unsigned, 0);
    assert.equal(intact.json.newestCheckpoint.seq, intact.json.lastSeq);
    const human = await verify(hostDir, false);
    assert.match(human.stdout, /^intact$/m);
  });

  let n = 0;
  /** A copy of the stopped host's state (host.db, host.key, root.pub), tampered with by `sql`. */
  const tampered = async (sql: string): Promise<CliResult> => {
    const dir = join(tmp.path, `case-${++n}`);
    mkdirSync(dir);
    for (const f of ['host.db', 'host.key', 'root.pub']) copyFileSync(join(hostDir, f), join(dir, f));
    sqlite(join(dir, 'host.db'), sql);
    const r = await verify(dir);
    assert.equal(r.code, 7, `verify-log exits with the trust class: ${r.stdout}${r.stderr}`);
    assert.equal(r.json.error.code, 'LOG_TAMPERED');
    assert.equal(r.json.intact, false);
    return r;
  };
  const eventSeq = (offset: number) =>
    Number(sqlite(join(hostDir, 'host.db'), `SELECT seq FROM events ORDER BY id LIMIT 1 OFFSET ${offset}`));

  it('finds an edited event and names it', async () => {
    const seq = eventSeq(4);
    const r = await tampered(`UPDATE events SET outcome = 'activated' WHERE seq = ${seq}`);
    assert.deepEqual([r.json.first.kind, r.json.first.seq, r.json.first.problem], ['event', seq, 'edited']);
  });

  it('finds an edited settings change and names it', async () => {
    const seq = Number(sqlite(join(hostDir, 'host.db'), "SELECT seq FROM settings_log WHERE name = 'retryMinutes'"));
    const r = await tampered(`UPDATE settings_log SET new_value = '15' WHERE seq = ${seq}`);
    assert.deepEqual([r.json.first.kind, r.json.first.seq, r.json.first.problem], ['setting', seq, 'edited']);
  });

  it('finds a deleted event in the middle', async () => {
    const seq = eventSeq(5);
    const r = await tampered(`DELETE FROM events WHERE seq = ${seq}`);
    assert.deepEqual([r.json.first.seq, r.json.first.problem], [seq, 'deleted']);
  });

  it('finds the last events deleted before the checkpoint', async () => {
    const last = intact.json.lastSeq as number;
    const r = await tampered(`DELETE FROM events WHERE seq >= ${last - 1}`);
    assert.deepEqual([r.json.first.seq, r.json.first.problem], [last - 1, 'deleted']);
  });

  it('finds two events whose contents were swapped as reordered', async () => {
    const [a, b] = [eventSeq(1), eventSeq(2)];
    const cols = ['at', 'machine_id', 'license_state', 'edition', 'outcome', 'count', 'required', 'address'];
    const set = (from: string) => cols.map((c) => `${c} = (SELECT ${c} FROM ${from})`).join(', ');
    const r = await tampered(
      `CREATE TEMP TABLE a AS SELECT * FROM events WHERE seq = ${a};
       CREATE TEMP TABLE b AS SELECT * FROM events WHERE seq = ${b};
       UPDATE events SET ${set('b')} WHERE seq = ${a};
       UPDATE events SET ${set('a')} WHERE seq = ${b};`,
    );
    assert.deepEqual([r.json.first.seq, r.json.first.problem], [a, 'reordered']);
  });

  it('finds the whole log wiped: the host signs a checkpoint at every start, so none is a finding', async () => {
    const r = await tampered('DELETE FROM events; DELETE FROM settings_log; DELETE FROM log_checkpoints;');
    assert.deepEqual([r.json.first.kind, r.json.first.problem], ['checkpoint', 'deleted']);
  });

  it('finds the tail cut with the checkpoints after it, by the counters; names the counters edited alone', async () => {
    const db = join(hostDir, 'host.db');
    const first = Number(sqlite(db, 'SELECT min(seq) FROM log_checkpoints'));
    const last = intact.json.lastSeq as number;
    assert.ok(first < last, `an earlier checkpoint to cut back to: ${first} < ${last}`);
    const r = await tampered(
      `DELETE FROM events WHERE seq > ${first}; DELETE FROM settings_log WHERE seq > ${first};
       DELETE FROM log_checkpoints WHERE seq > ${first};`,
    );
    assert.deepEqual([r.json.first.kind, r.json.first.seq, r.json.first.problem], ['event', first + 1, 'deleted']);
    assert.match(r.json.first.detail, /counters/);
    const c = await tampered("UPDATE counters SET n = n - 1 WHERE name = 'total'");
    assert.deepEqual([c.json.first.kind, c.json.first.problem], ['counters', 'edited']);
  });

  it('finds the settings table edited without a settings change in the log, naming the setting', async () => {
    const r = await tampered(`UPDATE settings SET value = '["0.0.0.0/0"]' WHERE name = 'servedNetworks';
      INSERT OR IGNORE INTO settings (name, value) VALUES ('servedNetworks', '["0.0.0.0/0"]');`);
    assert.deepEqual([r.json.first.kind, r.json.first.problem], ['setting', 'edited']);
    assert.match(r.json.first.detail, /servedNetworks/);
  });

  it('finds a forged checkpoint', async () => {
    const jws = sqlite(join(hostDir, 'host.db'), 'SELECT jws FROM log_checkpoints ORDER BY id DESC LIMIT 1');
    const [h, p, s] = jws.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    payload.hash = Buffer.alloc(32, 7).toString('base64url');
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    const r = await tampered(`UPDATE log_checkpoints SET jws = '${forged}' WHERE jws = '${jws}'`);
    assert.deepEqual([r.json.first.kind, r.json.first.problem], ['checkpoint', 'checkpoint']);
    assert.match(r.json.first.detail, /not signed by this host's key/);
  });

  it('refuses a host.key that is not the key the host certificate names', async () => {
    const dir = join(tmp.path, 'other-key');
    mkdirSync(dir);
    for (const f of ['host.db', 'root.pub']) copyFileSync(join(hostDir, f), join(dir, f));
    execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', join(dir, 'host.key')]);
    const r = await verify(dir);
    assert.equal(r.code, 7, r.stdout + r.stderr);
    assert.equal(r.json.error.code, 'LOG_KEY_MISMATCH');
  });

  it('prunes events older than 90 days behind a checkpoint at start, and the pruned log still verifies', async () => {
    const before = intact.json.lastSeq as number;
    clock.advance(91 * DAY);
    host = await startHost(hostDir, { root: world.rootPub, authority: url, env: clock.env() });
    services.push(host);
    assert.equal(sqlite(join(hostDir, 'host.db'), 'SELECT count(*) FROM events'), '0', 'the old events were pruned');
    await activate(3);
    await slmgrHost('-sai', '90');
    const running = await verify(hostDir);
    assert.equal(running.code, 0, running.stdout + running.stderr);
    // each setting lost its last record to the prune: restated first, so the log keeps its value
    const k = Number(sqlite(join(hostDir, 'host.db'), 'SELECT count(*) FROM settings'));
    assert.deepEqual(
      [running.json.records, running.json.firstSeq, running.json.lastSeq],
      [4 + k, before + 1, before + 4 + k],
    );
    await host.stop();
    const stopped = await verify(hostDir);
    assert.equal(stopped.code, 0, stopped.stdout + stopped.stderr);
    // cutting more from the front than the prune did is found
    const r = await tampered(`DELETE FROM settings_log WHERE seq = ${before + 1}`);
    assert.deepEqual([r.json.first.seq, r.json.first.problem], [before + 1, 'deleted']);
  });

  it('refuses a directory without a host log, with its own code', async () => {
    const r = await verify(join(tmp.path, 'nowhere'));
    assert.equal(r.code, 5);
    assert.equal(r.json.error.code, 'LOG_UNAVAILABLE');
  });
});
