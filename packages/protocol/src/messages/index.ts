/**
 * The message catalogs: English and Japanese text for every error code of errors.ts and every
 * message ID, with {placeholders}. Plain data and string functions only (no Node APIs), so the
 * CLI and a browser bundle (`@volact/protocol/messages`) read the same catalogs.
 */
import { errorTable, fill, type ErrorCode, type ErrorParams } from '../errors.js';
import { enMessages, type MessageId } from './en-messages.js';
import { jaErrors } from './ja-errors.js';
import { jaMessages } from './ja-messages.js';

export { enMessages, type MessageId } from './en-messages.js';
export { jaErrors } from './ja-errors.js';
export { jaMessages } from './ja-messages.js';

/** The languages volact speaks; English is the source and the fallback. */
export const langs = ['en', 'ja'] as const;
export type Lang = (typeof langs)[number];

export type ErrorText = { message: string; fix: string };
export type MessageCatalog = {
  errors: Partial<Record<ErrorCode, ErrorText>>;
  messages: Partial<Record<MessageId, string>>;
};

/** English errors come from errors.ts itself, so the one table stays the source of their text. */
const enErrors = Object.fromEntries(
  Object.entries(errorTable).map(([code, e]) => [code, { message: e.message, fix: e.fix }]),
) as Record<ErrorCode, ErrorText>;

export const catalogs: Record<Lang, MessageCatalog> = {
  en: { errors: enErrors, messages: enMessages },
  ja: { errors: jaErrors, messages: jaMessages },
};

export function isLang(value: unknown): value is Lang {
  return typeof value === 'string' && (langs as readonly string[]).includes(value);
}

/** The text of message `id` in `lang` with its placeholders filled; English when `lang` lacks it. */
export function format(id: MessageId, params: ErrorParams = {}, lang: Lang = 'en'): string {
  return fill(catalogs[lang].messages[id] ?? enMessages[id], params);
}

/** An error's message and fix in `lang` (English for a code the catalog lacks), filled with its params. */
/**
 * Parameter values that are terms rather than data (the kind of code a message is about), in the
 * other languages' words, so a Japanese message does not carry an English noun.
 */
const paramTerms: Record<Lang, Readonly<Record<string, string>>> = {
  en: {},
  ja: { 'installation ID': 'インストール ID', 'confirmation ID': '確認 ID' },
};

export function translateError(err: { code: ErrorCode; params: ErrorParams }, lang: Lang = 'en'): ErrorText {
  const text = catalogs[lang].errors[err.code] ?? enErrors[err.code];
  const terms = paramTerms[lang];
  const params = Object.fromEntries(
    Object.entries(err.params).map(([k, v]) => [k, typeof v === 'string' ? (terms[v] ?? v) : v]),
  ) as ErrorParams;
  return { message: fill(text.message, params), fix: fill(text.fix, params) };
}

/** The placeholder names of a template, sorted: a translation must use the same set. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!))].sort();
}

/**
 * The language a POSIX locale asks for: the first of LC_ALL, LC_MESSAGES and LANG that is set and
 * not empty decides (POSIX precedence); ja, ja_JP.UTF-8 and the like are Japanese, anything else
 * (C, POSIX, en_US.UTF-8, unset) is English.
 */
export function langFromLocale(env: Record<string, string | undefined>): Lang {
  const locale = [env.LC_ALL, env.LC_MESSAGES, env.LANG].find((v) => v !== undefined && v !== '');
  return locale !== undefined && /^ja([_.@-]|$)/i.test(locale) ? 'ja' : 'en';
}
