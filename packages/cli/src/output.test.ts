import assert from 'node:assert/strict';
import { test } from 'node:test';
import { table } from './output.js';

test('a table pads by terminal columns: a wide character takes two, ASCII as before', () => {
  const rows = [
    { name: 'kms1', state: 'ok' },
    { name: '東京', state: 'ok' },
  ];
  assert.equal(table(rows, ['name', 'state']), 'name  state\nkms1  ok\n東京  ok');
  assert.equal(table(rows, ['name', 'state'], ['名前', '状態']), '名前  状態\nkms1  ok\n東京  ok');
  assert.equal(table([{ a: 'x' }], ['a']), 'a\nx');
});
