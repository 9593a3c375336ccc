import { memoryLog } from '@volact/io';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ManualClock, VolactError, generateKeyPair } from '@volact/protocol';
import { Host } from './host.js';
import { HostStore, openHostDb } from './host-store.js';
import { applyPriority } from './priority.js';
import type { ProcessPriority } from './settings.js';

/** A system error as Node's os.setPriority throws it. */
const systemError = (code: string) =>
  Object.assign(new Error(`uv_os_setpriority returned ${code}`), { code: 'ERR_SYSTEM_ERROR', info: { code } });

describe('process priority (-spri, -cpri)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'volact-priority-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('sets niceness 10 for low and 0 for normal on every thread, skipping one that ended', () => {
    const calls: [number, number][] = [];
    const set = (tid: number, nice: number) => {
      if (tid === 3) throw systemError('ESRCH');
      calls.push([tid, nice]);
    };
    applyPriority('low', set, () => [1, 2, 3]);
    applyPriority('normal', set, () => [1]);
    assert.deepEqual(calls, [
      [1, 10],
      [2, 10],
      [1, 0],
    ]);
  });

  it('refuses with PRIORITY_UNAVAILABLE when the system does not let the process raise its priority', () => {
    const refused = () =>
      applyPriority(
        'normal',
        () => {
          throw systemError('EACCES');
        },
        () => [1],
      );
    assert.throws(refused, (err: VolactError) => err.code === 'PRIORITY_UNAVAILABLE' && /EACCES/.test(err.message));
  });

  it('stores a priority only once it is applied: a refused -cpri leaves low stored', () => {
    const db = openHostDb(join(dir, 'host.db'));
    let refuse = false;
    const applied: ProcessPriority[] = [];
    const host = new Host({
      db,
      clock: new ManualClock(Date.UTC(2026, 0, 10)),
      keyPair: generateKeyPair('host'),
      roots: [],
      hostName: 'unit-host',
      log: memoryLog(),
      prioritize: (p) => {
        if (refuse) throw new VolactError('PRIORITY_UNAVAILABLE', { priority: p, reason: 'EACCES' });
        applied.push(p);
      },
    });
    assert.equal(host.settings.priority, 'normal', 'normal by default, as on a KMS host');
    host.setPriority('low');
    refuse = true;
    assert.throws(() => host.setPriority('normal'), /PRIORITY_UNAVAILABLE|cannot set its priority/);
    assert.deepEqual(applied, ['low']);
    assert.equal(host.settings.priority, 'low');
    assert.equal(new HostStore(db).settings().priority, 'low');
    assert.equal(host.status().priority, 'low');
    db.close();
  });
});
