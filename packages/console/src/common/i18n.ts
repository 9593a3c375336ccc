/**
 * The console's language: the browser's (the first of navigator.languages that volact speaks),
 * until the operator picks another with the switch. Every visible string comes from the message
 * catalogs of @volact/protocol/messages; nothing is stored in the browser.
 */
import { catalogs, format, translateError, type Lang, type MessageId } from '@volact/protocol/messages';

export type { Lang, MessageId };
type ErrorCode = Parameters<typeof translateError>[0]['code'];

function browserLang(): Lang {
  for (const tag of navigator.languages ?? [navigator.language]) {
    const base = tag.toLowerCase().split('-')[0];
    if (base === 'ja' || base === 'en') return base;
  }
  return 'en';
}

let current: Lang = browserLang();
const listeners = new Set<(lang: Lang) => void>();

export function lang(): Lang {
  return current;
}

export function setLang(next: Lang): void {
  current = next;
  document.documentElement.lang = next;
  for (const l of listeners) l(next);
}

export function onLang(listener: (lang: Lang) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The text of a message ID in the current language. */
export function t(id: MessageId, params: Record<string, string | number> = {}): string {
  return format(id, params, current);
}

/** An API error's message and fix in the current language; the server's English for a code this page does not know. */
export function errorText(
  code: string,
  params: Record<string, string | number>,
  fallback: { message: string; fix: string },
) {
  if (!(code in catalogs.en.errors)) return fallback;
  return translateError({ code: code as ErrorCode, params }, current);
}

const locales: Record<Lang, string> = { en: 'en-GB', ja: 'ja-JP' };

/** A time (ms since 1970 or ISO text) in the current locale; '' for none. */
export function when(value: number | string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return String(value);
  return new Intl.DateTimeFormat(locales[current], { dateStyle: 'medium', timeStyle: 'short' }).format(d);
}

export function num(value: number | null | undefined): string {
  return value === null || value === undefined ? '' : new Intl.NumberFormat(locales[current]).format(value);
}

/** A day (ms since 1970) as a short date in the current locale: chart axes. */
export function day(ms: number): string {
  return new Intl.DateTimeFormat(locales[current], { month: 'short', day: 'numeric' }).format(new Date(ms));
}
