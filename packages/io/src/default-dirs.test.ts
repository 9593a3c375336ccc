import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultStateDir } from './default-dirs.js';

describe('default state directories', () => {
  test('Windows keeps every role under %ProgramData%\\volact', () => {
    const ctx = { platform: 'win32' as const, env: { ProgramData: 'D:\\ProgramData' } };
    assert.equal(defaultStateDir('client', ctx), 'D:\\ProgramData\\volact\\client');
    assert.equal(defaultStateDir('host', ctx), 'D:\\ProgramData\\volact\\host');
    assert.equal(defaultStateDir('authority', ctx), 'D:\\ProgramData\\volact\\authority');
    assert.equal(defaultStateDir('hypervisor', ctx), 'D:\\ProgramData\\volact\\hypervisor');
    assert.equal(defaultStateDir('host', { platform: 'win32', env: {} }), 'C:\\ProgramData\\volact\\host');
  });

  test("macOS keeps root's state in /Library/Application Support and a user's client in their Library", () => {
    const env = { HOME: '/Users/ann' };
    assert.equal(
      defaultStateDir('client', { platform: 'darwin', env, uid: 0 }),
      '/Library/Application Support/volact/client',
    );
    assert.equal(
      defaultStateDir('client', { platform: 'darwin', env, uid: 501 }),
      '/Users/ann/Library/Application Support/volact/client',
    );
    assert.equal(
      defaultStateDir('host', { platform: 'darwin', env, uid: 501 }),
      '/Library/Application Support/volact/host',
    );
  });

  test('Linux is unchanged: /var/lib/volact, and ~/.local/state for a client not run by root', () => {
    const env = { HOME: '/home/ann' };
    assert.equal(defaultStateDir('client', { platform: 'linux', env, uid: 0 }), '/var/lib/volact/client');
    assert.equal(
      defaultStateDir('client', { platform: 'linux', env, uid: 1000 }),
      '/home/ann/.local/state/volact/client',
    );
    assert.equal(defaultStateDir('authority', { platform: 'linux', env, uid: 1000 }), '/var/lib/volact/authority');
    assert.equal(defaultStateDir('hypervisor', { platform: 'linux', env, uid: 0 }), '/var/lib/volact/hypervisor');
  });

  test("each role's variable wins on every platform", () => {
    for (const platform of ['win32', 'darwin', 'linux'] as const) {
      const env = {
        VOLACT_STATE_DIR: 's',
        VOLACT_HOST_DIR: 'h',
        VOLACT_AUTHORITY_DIR: 'a',
        VOLACT_HYPERVISOR_DIR: 'v',
      };
      assert.deepEqual(
        (['client', 'host', 'authority', 'hypervisor'] as const).map((r) => defaultStateDir(r, { platform, env })),
        ['s', 'h', 'a', 'v'],
      );
    }
  });
});
