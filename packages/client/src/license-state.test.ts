import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DAY, MINUTE, ManualClock, defaults, type Grant } from '@volact/protocol';
import { licenseState, nextAttemptAt, type LicenseInputs } from './license-state.js';

const T0 = Date.UTC(2026, 0, 1);

function grant(issuedAt: number, validUntil = issuedAt + defaults.validityMs): Grant {
  return {
    machineId: 'machine-1',
    nonce: 'nonce-nonce-nonce-1',
    edition: 101,
    hostId: 'host-1',
    hostName: 'kms01',
    issuedAt,
    count: 30,
    required: 25,
    renewalMinutes: defaults.renewalMinutes,
    retryMinutes: defaults.retryMinutes,
    fingerprintHash: 'x'.repeat(43),
    validUntil,
  };
}

function inputs(over: Partial<LicenseInputs> = {}): LicenseInputs {
  return { keyInstalled: true, graceStart: T0, highWater: T0, grant: null, ...over };
}

describe('licenseState', () => {
  test('no key installed is unlicensed with no end, whatever else is stored', () => {
    const clock = new ManualClock(T0);
    for (const day of [0, 10, 400]) {
      clock.set(T0 + day * DAY);
      const none = licenseState(inputs({ keyInstalled: false }), clock.now());
      assert.equal(none.state, 'unlicensed');
      assert.equal(none.endsAt, null);
      const withGrant = licenseState(inputs({ keyInstalled: false, grant: grant(T0) }), clock.now());
      assert.equal(withGrant.state, 'unlicensed');
    }
  });

  test('a key without a grant is in initial grace for 30 days from graceStart, then notification', () => {
    const clock = new ManualClock(T0);
    const inp = inputs();
    for (let day = 0; day < 30; day++) {
      clock.set(T0 + day * DAY);
      const v = licenseState(inp, clock.now());
      assert.equal(v.state, 'initialGrace', `day ${day}`);
      assert.equal(v.endsAt, T0 + 30 * DAY);
      assert.equal(v.trustedNow, clock.now());
    }
    clock.set(T0 + 30 * DAY - 1);
    assert.equal(licenseState(inp, clock.now()).state, 'initialGrace');
    clock.set(T0 + 30 * DAY);
    const ended = licenseState(inp, clock.now());
    assert.equal(ended.state, 'notification');
    assert.equal(ended.endsAt, null);
    clock.advance(100 * DAY);
    assert.equal(licenseState(inp, clock.now()).state, 'notification');
  });

  test('initial grace counts from graceStart, not from the epoch of the clock', () => {
    const later = T0 + 50 * DAY;
    const v = licenseState(inputs({ graceStart: later, highWater: later }), later + 29 * DAY);
    assert.equal(v.state, 'initialGrace');
    assert.equal(v.endsAt, later + 30 * DAY);
  });

  test('a 180-day grant is licensed until validUntil, then 30 days of ootGrace, then notification', () => {
    const clock = new ManualClock(T0);
    const g = grant(T0);
    assert.equal(g.validUntil, T0 + 180 * DAY);
    const inp = inputs({ grant: g });
    for (let day = 0; day < 180; day++) {
      clock.set(T0 + day * DAY);
      const v = licenseState(inp, clock.now());
      assert.equal(v.state, 'licensed', `day ${day}`);
      assert.equal(v.endsAt, g.validUntil);
      assert.equal(v.grant, g);
    }
    clock.set(g.validUntil - 1);
    assert.equal(licenseState(inp, clock.now()).state, 'licensed');
    for (let day = 180; day < 210; day++) {
      clock.set(T0 + day * DAY);
      const v = licenseState(inp, clock.now());
      assert.equal(v.state, 'ootGrace', `day ${day}`);
      assert.equal(v.endsAt, g.validUntil + 30 * DAY);
    }
    clock.set(g.validUntil + 30 * DAY - 1);
    assert.equal(licenseState(inp, clock.now()).state, 'ootGrace');
    clock.set(g.validUntil + 30 * DAY);
    const ended = licenseState(inp, clock.now());
    assert.equal(ended.state, 'notification');
    assert.equal(ended.endsAt, null);
  });

  test('a grant keeps the machine licensed even after the initial grace period has passed', () => {
    const v = licenseState(inputs({ grant: grant(T0 + 40 * DAY) }), T0 + 45 * DAY);
    assert.equal(v.state, 'licensed');
  });

  test('a renewal slides the validity: the newer grant counts 180 days from its own issue', () => {
    const clock = new ManualClock(T0);
    const first = grant(T0);
    clock.advance(7 * DAY);
    const renewed = grant(clock.now());
    assert.equal(renewed.validUntil, first.validUntil + 7 * DAY);
    clock.set(T0 + 185 * DAY);
    assert.equal(licenseState(inputs({ grant: first }), clock.now()).state, 'ootGrace');
    const v = licenseState(inputs({ grant: renewed }), clock.now());
    assert.equal(v.state, 'licensed');
    assert.equal(v.endsAt, T0 + 187 * DAY);
    clock.set(T0 + 187 * DAY);
    assert.equal(licenseState(inputs({ grant: renewed }), clock.now()).state, 'ootGrace');
  });

  test('a clock set back before highWater uses highWater: an expired grant stays expired', () => {
    const g = grant(T0);
    const highWater = T0 + 200 * DAY; // trusted time already past validUntil
    const v = licenseState(inputs({ grant: g, highWater }), T0 + 10 * DAY);
    assert.equal(v.state, 'ootGrace');
    assert.equal(v.trustedNow, highWater);
    assert.equal(v.endsAt, g.validUntil + 30 * DAY);
    const later = licenseState(inputs({ grant: g, highWater: T0 + 215 * DAY }), T0);
    assert.equal(later.state, 'notification');
  });

  test('a clock set back before highWater does not reopen an ended initial grace', () => {
    const v = licenseState(inputs({ highWater: T0 + 40 * DAY }), T0 + 5 * DAY);
    assert.equal(v.state, 'notification');
    assert.equal(v.trustedNow, T0 + 40 * DAY);
  });

  test('a clock ahead of highWater is used as it is', () => {
    const v = licenseState(inputs({ highWater: T0 + DAY }), T0 + 3 * DAY);
    assert.equal(v.trustedNow, T0 + 3 * DAY);
    assert.equal(v.state, 'initialGrace');
  });
});

describe('nextAttemptAt', () => {
  const intervals = { renewalMinutes: 60, retryMinutes: 30 };

  test('with no attempt yet, the next attempt is due now (trusted time)', () => {
    const view = licenseState(inputs({ highWater: T0 + DAY }), T0);
    assert.equal(nextAttemptAt(view, null, intervals), T0 + DAY);
  });

  test('after a successful attempt while licensed, the next one is one renewal interval later', () => {
    const at = T0 + 3 * DAY;
    const view = licenseState(inputs({ grant: grant(at) }), at);
    assert.equal(view.state, 'licensed');
    assert.equal(nextAttemptAt(view, { at, ok: true }, intervals), at + 60 * MINUTE);
    assert.equal(
      nextAttemptAt(
        view,
        { at, ok: true },
        { renewalMinutes: defaults.renewalMinutes, retryMinutes: defaults.retryMinutes },
      ),
      at + 7 * DAY,
    );
  });

  test('after a failed attempt, the next one is one retry interval later, licensed or not', () => {
    const at = T0 + 3 * DAY;
    const licensed = licenseState(inputs({ grant: grant(T0) }), at);
    assert.equal(nextAttemptAt(licensed, { at, ok: false }, intervals), at + 30 * MINUTE);
    const grace = licenseState(inputs(), at);
    assert.equal(grace.state, 'initialGrace');
    assert.equal(nextAttemptAt(grace, { at, ok: false }, intervals), at + 30 * MINUTE);
    assert.equal(
      nextAttemptAt(
        grace,
        { at, ok: false },
        { renewalMinutes: defaults.renewalMinutes, retryMinutes: defaults.retryMinutes },
      ),
      at + 2 * 60 * MINUTE,
    );
  });

  test('a successful attempt that left the machine unlicensed (grant expired) retries at the retry interval', () => {
    const at = T0 + 200 * DAY;
    const expired = licenseState(inputs({ grant: grant(T0) }), at);
    assert.equal(expired.state, 'ootGrace');
    assert.equal(nextAttemptAt(expired, { at, ok: true }, intervals), at + 30 * MINUTE);
  });
});

describe('licenseState with a directory activation', () => {
  const directory = { name: 'office-2026', validUntil: T0 + defaults.validityMs };
  test('licensed for 180 days from the read, naming the object; then out-of-tolerance grace, then notification', () => {
    const at = (t: number) => licenseState(inputs({ directory }), t);
    assert.deepEqual(
      [at(T0 + 179 * DAY).state, at(T0 + 179 * DAY).reason],
      ['licensed', 'activated by directory activation object office-2026'],
    );
    assert.equal(at(T0 + 179 * DAY).endsAt, directory.validUntil);
    assert.equal(at(T0 + 181 * DAY).state, 'ootGrace');
    assert.match(at(T0 + 181 * DAY).reason, /renew from the directory/);
    assert.equal(at(T0 + 211 * DAY).state, 'notification');
  });
  test('a clock set back does not bring an expired directory activation back', () => {
    const view = licenseState(inputs({ directory, localHighWater: T0 + 200 * DAY }), T0 + DAY);
    assert.equal(view.state, 'ootGrace');
  });
});
