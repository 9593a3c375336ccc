import {
  VolactError,
  format,
  isLang,
  langFromLocale,
  type ErrorParams,
  type Lang,
  type MessageId,
} from '@volact/protocol';

/** The language of this run's text output; `--json` output is the same in every language. */
let current: Lang = 'en';

export function lang(): Lang {
  return current;
}

/** Message `id` in this run's language. */
export function t(id: MessageId, params: ErrorParams = {}): string {
  return format(id, params, current);
}

/**
 * Chooses the language: `--lang ja|en` anywhere before a `--` (taken out of the arguments, as it
 * is global), else the locale (LC_ALL, LC_MESSAGES, LANG). Returns the arguments without it.
 */
export function chooseLang(argv: string[], env: Record<string, string | undefined>): string[] {
  current = langFromLocale(env);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.push(...argv.slice(i));
      break;
    }
    if (arg !== '--lang' && !arg.startsWith('--lang=')) {
      out.push(arg);
      continue;
    }
    const value = arg === '--lang' ? argv[++i] : arg.slice('--lang='.length);
    if (!isLang(value)) throw new VolactError('USAGE', { detail: t('cli.langInvalid', { value: value ?? '' }) });
    current = value;
  }
  return out;
}
