import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { CONSOLE_REFRESH, ConsoleSessions } from './console-web.js';

const MIN = 60_000;
const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
const identity = { tokenId: 'T0123456789', name: 'ops', scopes: ['read'] };

describe('ConsoleSessions and a page that refreshes itself', () => {
  it('ends a session left open on a polling page after the idle time: a timed refresh is not use', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ now: () => now, idleMs: 30 * MIN });
    const s = sessions.create(identity);
    const poll = req({ cookie: `volact_session=${s.id}`, [CONSOLE_REFRESH]: 'timer' });
    for (let i = 0; i < 29; i++) {
      now += MIN;
      assert.ok(sessions.find(poll), `a refresh within the idle time still answers (minute ${i + 1})`);
    }
    assert.equal(sessions.find(poll)?.expiresAt, 1_000_000 + 30 * MIN, 'and does not move the end');
    now += MIN;
    assert.equal(sessions.find(poll), undefined, 'nobody used it for 30 minutes');
  });

  it('extends the idle time for what the user does', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ now: () => now, idleMs: 30 * MIN });
    const s = sessions.create(identity);
    now += 20 * MIN;
    assert.ok(sessions.find(req({ cookie: `volact_session=${s.id}` })));
    now += 20 * MIN;
    assert.ok(sessions.find(req({ cookie: `volact_session=${s.id}`, [CONSOLE_REFRESH]: 'timer' })));
  });
});
