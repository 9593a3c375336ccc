/**
 * The locale every volact process a test starts runs in, unless the test says otherwise: the CLI
 * speaks the language of LC_ALL, LC_MESSAGES or LANG (docs/cli.md#language), and the tests read
 * its English, so a developer's ja_JP.UTF-8 must not change what they see. A test of the
 * Japanese output passes its own LANG or LC_MESSAGES, which then decides.
 */
export const englishLocale: Record<string, string | undefined> = {
  LC_ALL: undefined,
  LC_MESSAGES: undefined,
  LANG: 'C',
};
