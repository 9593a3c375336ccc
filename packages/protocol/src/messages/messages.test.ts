import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorTable, VolactError, type ErrorCode } from '../errors.js';
import {
  catalogs,
  enMessages,
  format,
  langFromLocale,
  langs,
  placeholders,
  translateError,
  type MessageId,
} from './index.js';

/** Entries whose Japanese is rightly the same as the English: only placeholders and punctuation. */
const sameInBothLanguages = new Set(['error:USAGE.message', 'message:event.cell', 'message:host.dnsSummary']);

/** Every text that must exist in every language: [key, English template, where its translation goes]. */
function sources(): [string, string, (lang: keyof typeof catalogs) => string | undefined, string][] {
  const out: [string, string, (lang: keyof typeof catalogs) => string | undefined, string][] = [];
  for (const [code, e] of Object.entries(errorTable) as [ErrorCode, { message: string; fix: string }][]) {
    for (const part of ['message', 'fix'] as const)
      out.push([
        `error:${code}.${part}`,
        e[part],
        (lang) => catalogs[lang].errors[code]?.[part],
        `packages/protocol/src/messages/LANG-errors.ts (entry ${code})`,
      ]);
  }
  for (const [id, text] of Object.entries(enMessages) as [MessageId, string][])
    out.push([
      `message:${id}`,
      text,
      (lang) => catalogs[lang].messages[id],
      `packages/protocol/src/messages/LANG-messages.ts ('${id}')`,
    ]);
  return out;
}

describe('message catalogs', () => {
  test('every error code and message ID has a text in every language', () => {
    const missing = sources().flatMap(([key, , text, file]) =>
      langs
        .filter((lang) => text(lang) === undefined)
        .map((lang) => `${key} (${lang}): add it to ${file.replace('LANG', lang)}`),
    );
    assert.deepEqual(missing, [], `untranslated:\n  ${missing.join('\n  ')}`);
  });

  test('every translation uses exactly the placeholders of the English text', () => {
    const differ = sources().flatMap(([key, en, text]) =>
      langs
        .filter((lang) => text(lang) !== undefined && placeholders(text(lang)!).join() !== placeholders(en).join())
        .map(
          (lang) =>
            `${key} (${lang}): {${placeholders(text(lang)!).join('} {')}} instead of {${placeholders(en).join('} {')}}`,
        ),
    );
    assert.deepEqual(differ, [], differ.join('\n'));
  });

  test('no Japanese text is the English one copied, except the entries listed as the same', () => {
    const copied = sources()
      .filter(([key, en, text]) => text('ja') === en && !sameInBothLanguages.has(key))
      .map(([key]) => key);
    assert.deepEqual(copied, []);
    const japanese = /[\u3040-\u30ff\u4e00-\u9fff]/;
    const notJapanese = sources()
      .filter(([key, , text]) => !sameInBothLanguages.has(key) && !japanese.test(text('ja') ?? ''))
      .map(([key]) => key);
    assert.deepEqual(notJapanese, [], 'each Japanese text has Japanese in it');
  });

  test('English errors are the text of errors.ts itself', () => {
    const e = new VolactError('KEY_MALFORMED', { length: 7 });
    assert.deepEqual(translateError(e, 'en'), { message: e.message, fix: e.fix });
  });

  test('fills placeholders in the language asked for, and falls back to English for a missing entry', () => {
    const e = new VolactError('COUNT_INSUFFICIENT', { count: 3, required: 25, retryMinutes: 120 });
    assert.deepEqual(translateError(e, 'ja'), {
      message: 'ホストのカウントは 3 台で、しきい値の 25 台に達していません',
      fix: '対処は不要です。このコンピューターは 120 分ごとに再試行し、25 台が要求した時点でライセンス認証されます。',
    });
    assert.equal(format('dli.partialKey', { partialKey: 'ABCDE' }, 'ja'), '部分プロダクト キー: ABCDE');
    const saved = catalogs.ja.errors.KEY_TYPO;
    delete catalogs.ja.errors.KEY_TYPO;
    try {
      assert.equal(translateError(new VolactError('KEY_TYPO'), 'ja').message, errorTable.KEY_TYPO.message);
    } finally {
      catalogs.ja.errors.KEY_TYPO = saved;
    }
  });

  test('the locale picks Japanese for ja*, in the POSIX order LC_ALL, LC_MESSAGES, LANG', () => {
    assert.equal(langFromLocale({ LANG: 'ja_JP.UTF-8' }), 'ja');
    assert.equal(langFromLocale({ LANG: 'ja' }), 'ja');
    assert.equal(langFromLocale({ LC_MESSAGES: 'ja_JP.eucJP', LANG: 'C' }), 'ja');
    assert.equal(langFromLocale({ LC_ALL: 'C', LC_MESSAGES: 'ja_JP.UTF-8' }), 'en');
    assert.equal(langFromLocale({ LC_ALL: '', LANG: 'ja_JP.UTF-8' }), 'ja', 'an empty variable does not count');
    assert.equal(langFromLocale({ LANG: 'jam_JM' }), 'en');
    for (const LANG of ['C', 'POSIX', 'en_US.UTF-8', 'C.UTF-8', undefined])
      assert.equal(langFromLocale({ LANG }), 'en');
  });

  test('puts the kind of code in the message in Japanese words, and leaves data as it came', () => {
    const err = { code: 'CODE_GROUP_TYPO' as const, params: { what: 'confirmation ID', group: 3, text: 'ABCD' } };
    assert.match(translateError(err, 'ja').message, /確認 ID/);
    assert.doesNotMatch(translateError(err, 'ja').message, /confirmation ID/);
    assert.match(translateError(err, 'en').message, /confirmation ID/);
    assert.match(translateError(err, 'ja').message, /ABCD/);
  });
});
