/**
 * The frame of both consoles: skip link, header with the pages, the language switch and logout,
 * the main landmark, the live region; the login form when there is no session. Pages are hash
 * routes (#/overview); a page marked public (the authority's offline activation) needs no login.
 */
import type { ComponentChildren, FunctionComponent } from 'preact';
import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { currentSession, logIn, logOut, whenSessionEnds, type Session } from './api.js';
import { lang, onLang, setLang, t, type Lang, type MessageId } from './i18n.js';
import { ErrorNote, LiveRegion } from './ui.js';
import './style.css';

export type PageProps = { session: Session | undefined };
export type Page = { path: string; title: MessageId; component: FunctionComponent<PageProps>; public?: boolean };
export type ConsoleConfig = {
  title: MessageId;
  sessionPath: string;
  loginHelp: MessageId;
  pages: Page[];
};

function useHashPath(fallback: string): string {
  const read = () => (location.hash.startsWith('#/') ? location.hash.slice(2).split('?')[0]! : fallback);
  const [path, setPath] = useState(read);
  useEffect(() => {
    const listener = () => setPath(read());
    addEventListener('hashchange', listener);
    return () => removeEventListener('hashchange', listener);
  }, []);
  return path;
}

function LangSwitch() {
  const choices: [Lang, string][] = [
    ['ja', '日本語'],
    ['en', 'English'],
  ];
  return (
    <div class="lang" role="group" aria-label={`${t('console.language')} / Language / 言語`}>
      {choices.map(([code, label]) => (
        <button
          type="button"
          lang={code}
          aria-pressed={lang() === code}
          data-testid={`lang-${code}`}
          onClick={() => setLang(code)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

function Login(props: { config: ConsoleConfig; onSession: (s: Session) => void; extra?: ComponentChildren }) {
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const field = useRef<HTMLInputElement>(null);
  return (
    <section class="card login" aria-labelledby="login-title">
      <h1 id="login-title">{t('console.loginTitle')}</h1>
      <form
        data-testid="login-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const input = field.current!;
          setBusy(true);
          try {
            const session = await logIn(props.config.sessionPath, input.value.trim());
            input.value = ''; // the token is not kept by the page
            props.onSession(session);
          } catch (err) {
            setError(err);
            input.focus();
          } finally {
            setBusy(false);
          }
        }}
      >
        <p id="token-help">{t(props.config.loginHelp)}</p>
        <label for="token">{t('console.token')}</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          aria-describedby="token-help"
          data-testid="token"
          ref={field}
        />
        <button type="submit" disabled={busy} data-testid="login">
          {t('console.loginSubmit')}
        </button>
        <ErrorNote error={error} />
      </form>
      {props.extra}
    </section>
  );
}

function Shell({ config }: { config: ConsoleConfig }) {
  const [, setLangState] = useState(lang());
  const [session, setSession] = useState<Session | undefined | null>(null); // null: not known yet
  const [error, setError] = useState<unknown>(undefined);
  const path = useHashPath(config.pages[0]!.path);
  const main = useRef<HTMLElement>(null);
  useEffect(() => onLang(setLangState), []);
  useEffect(() => {
    whenSessionEnds(() => setSession(undefined));
    currentSession(config.sessionPath).then(setSession, (err) => {
      setError(err);
      setSession(undefined);
    });
  }, []);
  useEffect(() => {
    document.title = `${t(page.title)} – ${t(config.title)}`;
  });
  const page = config.pages.find((p) => p.path === path) ?? config.pages[0]!;
  const visible = session ? config.pages : config.pages.filter((p) => p.public);
  const Component = page.component;
  let body: ComponentChildren;
  if (session === null) body = <p>{t('console.loading')}</p>;
  else if (!session && !page.public) {
    const offline = config.pages.find((p) => p.public);
    body = (
      <Login
        config={config}
        onSession={(s) => {
          setSession(s);
          setError(undefined);
          main.current?.focus();
        }}
        extra={offline && <p>{<a href={`#/${offline.path}`}>{t('console.offlineWithoutLogin')}</a>}</p>}
      />
    );
  }
  // keyed by the page only: a language switch re-renders the page in place, keeping what it shows
  // (a token's secret shown once, a confirmation ID, the results of a file)
  else body = <Component session={session} key={page.path} />;
  return (
    <>
      <a class="skip" href="#main" data-testid="skip" onClick={(e) => (e.preventDefault(), main.current?.focus())}>
        {t('console.skip')}
      </a>
      <header>
        <div class="brand">{t(config.title)}</div>
        {visible.length > 0 && (
          <nav aria-label={t('console.navLabel')}>
            <ul>
              {visible.map((p) => (
                <li>
                  <a href={`#/${p.path}`} aria-current={p === page ? 'page' : undefined} data-testid={`nav-${p.path}`}>
                    {t(p.title)}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
        )}
        <div class="tools">
          <LangSwitch />
          {session === undefined && page.public && (
            <a href={`#/${config.pages.find((p) => !p.public)!.path}`} data-testid="login-link">
              {t('console.loginTitle')}
            </a>
          )}
          {session && (
            <>
              <span class="who" data-testid="who">
                {t('console.signedInAs', { name: session.name, scopes: session.scopes.join(', ') })}
              </span>
              <button
                type="button"
                data-testid="logout"
                onClick={async () => {
                  await logOut(config.sessionPath).catch(() => undefined);
                  setSession(undefined);
                }}
              >
                {t('console.logout')}
              </button>
            </>
          )}
        </div>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        <ErrorNote error={error} />
        {body}
      </main>
      <LiveRegion />
    </>
  );
}

export function start(config: ConsoleConfig): void {
  document.documentElement.lang = lang();
  render(<Shell config={config} />, document.getElementById('app')!);
}
