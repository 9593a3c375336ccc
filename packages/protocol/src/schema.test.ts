import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VolactError } from './errors.js';
import { readPayload } from './documents.js';
import {
  array,
  bool,
  int,
  literal,
  nullable,
  obj,
  optional,
  parseWith,
  str,
  type Problem,
  type Schema,
} from './schema.js';

const check = <T>(s: Schema<T>, v: unknown): Problem | undefined => s.check(v, '');

const person = obj({
  name: str({ min: 1, max: 8, pattern: /^[a-z]+$/ }),
  age: int({ min: 0, max: 150 }),
  tags: array(str({ max: 4 }), { max: 2 }),
  nick: optional(str({ max: 8 })),
  admin: bool,
  role: literal('user', 'owner'),
  boss: nullable(str({ max: 8 })),
});
const good = { name: 'ada', age: 36, tags: ['a'], admin: false, role: 'user', boss: null };

describe('obj', () => {
  test('accepts a value with every required field and omitted optional ones', () => {
    assert.equal(check(person, good), undefined);
    assert.equal(check(person, { ...good, nick: 'a' }), undefined);
  });

  test('refuses an unknown field, naming it', () => {
    assert.deepEqual(check(person, { ...good, nmae: 'x' }), { field: 'nmae', problem: 'is not a known field' });
  });

  test('refuses inherited-looking names such as __proto__ and constructor as unknown fields', () => {
    assert.deepEqual(check(person, JSON.parse('{"__proto__":{"admin":true}}')), {
      field: '__proto__',
      problem: 'is not a known field',
    });
    assert.deepEqual(check(person, { ...good, constructor: 'x' }), {
      field: 'constructor',
      problem: 'is not a known field',
    });
  });

  test('refuses a missing required field, naming it', () => {
    const { age: _age, ...rest } = good;
    assert.deepEqual(check(person, rest), { field: 'age', problem: 'is required' });
    const { boss: _boss, ...noBoss } = good;
    assert.deepEqual(check(person, noBoss), { field: 'boss', problem: 'is required' }, 'nullable is not optional');
  });

  test('refuses non-objects, naming the body', () => {
    for (const v of [null, undefined, 'x', 3, [], [good]])
      assert.deepEqual(check(person, v), { field: '(body)', problem: 'must be an object' }, JSON.stringify(v));
  });

  test('names nested fields with a dotted path and array items with an index', () => {
    const outer = obj({ inner: obj({ list: array(int({ min: 0, max: 9 }), { max: 5 }) }) });
    assert.deepEqual(check(outer, { inner: { list: [1, 2, 10] } }), {
      field: 'inner.list[2]',
      problem: 'must be between 0 and 9',
    });
    assert.deepEqual(check(outer, { inner: { list: [], extra: 1 } }), {
      field: 'inner.extra',
      problem: 'is not a known field',
    });
  });

  test('describe lists required fields and refuses additional properties', () => {
    const d = person.describe() as { additionalProperties: boolean; required: string[] };
    assert.equal(d.additionalProperties, false);
    assert.deepEqual(d.required, ['name', 'age', 'tags', 'admin', 'role', 'boss']);
  });
});

describe('str', () => {
  const s = str({ min: 2, max: 4, pattern: /^[a-z]+$/ });
  test('accepts a string within length and pattern', () => {
    assert.equal(check(s, 'ab'), undefined);
    assert.equal(check(s, 'abcd'), undefined);
  });
  test('refuses a non-string', () => {
    for (const v of [1, null, undefined, ['ab'], { a: 1 }]) assert.equal(check(s, v)?.problem, 'must be a string');
  });
  test('refuses strings that are too short or too long', () => {
    assert.equal(check(s, 'a')?.problem, 'must have at least 2 characters');
    assert.equal(check(s, 'abcde')?.problem, 'must have at most 4 characters');
  });
  test('refuses a string that does not match the pattern', () => {
    assert.equal(check(s, 'aB')?.problem, 'must match ^[a-z]+$');
  });
});

describe('int', () => {
  const i = int({ min: -2, max: 5 });
  test('accepts integers at both ends of the range', () => {
    for (const v of [-2, 0, 5]) assert.equal(check(i, v), undefined);
  });
  test('refuses values out of range', () => {
    for (const v of [-3, 6, 1e9]) assert.equal(check(i, v)?.problem, 'must be between -2 and 5');
  });
  test('refuses non-integers, numeric strings, NaN, infinities and unsafe integers', () => {
    const big = int({ min: 0, max: Number.MAX_VALUE });
    for (const v of [1.5, '3', NaN, Infinity, null, true])
      assert.equal(check(i, v)?.problem, 'must be an integer', String(v));
    assert.equal(check(big, 2 ** 53)?.problem, 'must be an integer');
  });
});

describe('array', () => {
  const a = array(int({ min: 0, max: 9 }), { min: 1, max: 3 });
  test('accepts arrays within the item bounds', () => {
    assert.equal(check(a, [0]), undefined);
    assert.equal(check(a, [1, 2, 3]), undefined);
  });
  test('refuses non-arrays', () => {
    for (const v of [{ 0: 1, length: 1 }, '123', null]) assert.equal(check(a, v)?.problem, 'must be an array');
  });
  test('refuses too many or too few items', () => {
    assert.equal(check(a, [1, 2, 3, 4])?.problem, 'must have at most 3 items');
    assert.equal(check(a, [])?.problem, 'must have at least 1 items');
  });
  test('refuses a bad item, naming its index', () => {
    assert.deepEqual(check(a, [1, 'x']), { field: '[1]', problem: 'must be an integer' });
  });
});

describe('literal, bool, nullable, optional', () => {
  test('literal accepts only the listed values', () => {
    const l = literal('a', 'b');
    assert.equal(check(l, 'a'), undefined);
    assert.equal(check(l, 'c')?.problem, 'must be one of a, b');
  });
  test('bool refuses truthy non-booleans', () => {
    assert.equal(check(bool, true), undefined);
    assert.equal(check(bool, 1)?.problem, 'must be true or false');
    assert.equal(check(bool, 'true')?.problem, 'must be true or false');
  });
  test('nullable accepts null but still checks other values', () => {
    const n = nullable(int({ min: 0, max: 1 }));
    assert.equal(check(n, null), undefined);
    assert.equal(check(n, 2)?.problem, 'must be between 0 and 1');
  });
  test('optional accepts an omitted field but checks a present one', () => {
    const o = obj({ x: optional(int({ min: 0, max: 1 })) });
    assert.equal(check(o, {}), undefined);
    assert.deepEqual(check(o, { x: 7 }), { field: 'x', problem: 'must be between 0 and 1' });
  });
});

describe('parseWith and readPayload', () => {
  test('parseWith returns the value when valid and throws the caller error otherwise', () => {
    assert.deepEqual(
      parseWith(person, good, () => new Error('no')),
      good,
    );
    assert.throws(() => parseWith(person, { ...good, age: -1 }, (p) => new Error(`${p.field}: ${p.problem}`)), {
      message: 'age: must be between 0 and 150',
    });
  });
  test('readPayload throws DOCUMENT_INVALID naming the document type and the field', () => {
    assert.throws(
      () => readPayload('volact.test', person, { ...good, extra: 1 }),
      (e: unknown) =>
        e instanceof VolactError &&
        e.code === 'DOCUMENT_INVALID' &&
        e.params.type === 'volact.test' &&
        e.params.detail === 'extra is not a known field',
    );
  });
});
