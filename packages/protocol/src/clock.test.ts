import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DAY, HOUR, MINUTE, ManualClock, systemClock, testModeAllowed } from './clock.js';
import { VolactError } from './errors.js';

const refused = (e: unknown) => e instanceof VolactError && e.code === 'FAKE_CLOCK_REFUSED';

describe('ManualClock', () => {
  test('refuses to exist in production', () => {
    assert.throws(() => new ManualClock(0, { NODE_ENV: 'production' }), refused);
  });

  test('refuses to exist when NODE_ENV is unset or anything but test', () => {
    for (const env of [
      {},
      { NODE_ENV: '' },
      { NODE_ENV: 'development' },
      { NODE_ENV: 'TEST' },
      { NODE_ENV: 'test ' },
      { VOLACT_TEST_CLOCK: '1' },
    ]) {
      assert.throws(() => new ManualClock(0, env), refused, JSON.stringify(env));
    }
  });

  test('the refusal says how to fix it and exits with the internal class', () => {
    try {
      new ManualClock(0, { NODE_ENV: 'production' });
      assert.fail('constructed');
    } catch (e) {
      assert.ok(e instanceof VolactError);
      assert.equal(e.exit, 1);
      assert.match(e.fix, /NODE_ENV=test/);
    }
  });

  test('in test mode starts at the given time, advances and can be set', () => {
    const start = Date.UTC(2026, 0, 1);
    const clock = new ManualClock(start, { NODE_ENV: 'test' });
    assert.equal(clock.now(), start);
    assert.equal(clock.now(), start, 'does not move by itself');
    clock.advance(180 * DAY);
    assert.equal(clock.now(), start + 180 * DAY);
    clock.advance(-HOUR);
    assert.equal(clock.now(), start + 180 * DAY - HOUR);
    clock.set(start + MINUTE);
    assert.equal(clock.now(), start + MINUTE);
  });

  test('reads the process environment by default (NODE_ENV=test here)', () => {
    assert.equal(testModeAllowed(), process.env.NODE_ENV === 'test');
    if (process.env.NODE_ENV === 'test') assert.equal(new ManualClock().now(), Date.UTC(2026, 0, 1));
    else assert.throws(() => new ManualClock(), refused);
  });
});

describe('systemClock', () => {
  test('follows Date.now', () => {
    const a = Date.now();
    const t = systemClock.now();
    assert.ok(t >= a && t <= Date.now());
  });

  test('units are milliseconds', () => {
    assert.equal(MINUTE, 60_000);
    assert.equal(HOUR, 3_600_000);
    assert.equal(DAY, 86_400_000);
  });
});
