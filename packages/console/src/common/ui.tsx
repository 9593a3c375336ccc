/** Small building blocks shared by both consoles: errors, tables, the live region, polling. */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useId, useRef, useState } from 'preact/hooks';
import { ApiError, asRefresh } from './api.js';
import { errorText, onLang, t } from './i18n.js';

let announcer: ((text: string) => void) | undefined;

/** Says `text` in the page's aria-live region (and shows it): success messages, progress. */
export function announce(text: string): void {
  announcer?.(text);
}

export function LiveRegion() {
  const [text, setText] = useState('');
  useEffect(() => {
    announcer = setText;
    // a message said in the other language would stay on screen untranslated: drop it
    const unlisten = onLang(() => setText(''));
    return () => {
      announcer = undefined;
      unlisten();
    };
  }, []);
  // an announcement was said in the language of its moment: after a switch it would stay behind
  useEffect(() => onLang(() => setText('')), []);
  return (
    <div class="live" role="status" aria-live="polite" data-testid="status">
      {text}
    </div>
  );
}

/** An error with its code, message and fix, in the current language. */
export function ErrorNote({ error }: { error: unknown }) {
  if (!error) return null;
  let code = 'INTERNAL';
  let message: string;
  let fix = '';
  if (error instanceof ApiError) {
    code = error.code;
    if (error.code === 'NETWORK') {
      message = t('console.networkError', { reason: String(error.params.reason ?? '') });
      fix = t('console.retryHint');
    } else if (error.code === 'HTTP') {
      message = t('console.httpError', { status: error.status });
      fix = t('console.retryHint');
    } else {
      ({ message, fix } = errorText(error.code, error.params, { message: error.serverMessage, fix: error.serverFix }));
    }
  } else message = error instanceof Error ? error.message : String(error);
  return (
    <div class="error" role="alert" data-testid="error" data-code={code}>
      <p>{t('console.error', { code, message })}</p>
      {fix && <p>{t('console.fix', { fix })}</p>}
    </div>
  );
}

export type Column<R> = { label: string; cell: (row: R) => ComponentChildren; num?: boolean };

/**
 * A table of `rows`. With `rowKey`, each row keeps its DOM (and what was typed in it) when the list
 * reloads with rows added or gone; without it, rows are matched by position.
 */
export function Table<R>(props: {
  caption: string;
  columns: Column<R>[];
  rows: R[];
  testid?: string;
  key?: string;
  rowKey?: (row: R) => string;
}) {
  return (
    // focusable, so that a keyboard can scroll a table wider than the screen
    <div class="table-wrap" tabIndex={0} role="group" aria-label={props.caption}>
      <table data-testid={props.testid}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th scope="col" class={c.num ? 'num' : undefined}>
                {c.label}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length}>{t('common.noRows')}</td>
            </tr>
          ) : (
            props.rows.map((r) => (
              <tr key={props.rowKey?.(r)}>
                {props.columns.map((c) => (
                  <td class={c.num ? 'num' : undefined}>{c.cell(r)}</td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
    </div>
  );
}

/**
 * Loads `load()` now, again whenever `deps` change, and every `everyMs` when given: the last
 * answer stays on screen while the next one loads. `reload` loads at once.
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[], everyMs?: number) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const seq = useRef(0);
  const reload = useCallback(async (timed?: boolean) => {
    const mine = ++seq.current;
    try {
      const value = await (timed ? asRefresh(load) : load());
      if (mine === seq.current) {
        setData(value);
        setError(undefined);
      }
    } catch (err) {
      if (mine === seq.current) setError(err);
    }
  }, deps);
  useEffect(() => {
    void reload();
    if (!everyMs) return undefined;
    const timer = setInterval(() => void reload(true), everyMs);
    return () => clearInterval(timer);
  }, [reload, everyMs]);
  return { data, error, reload };
}

/** A button that asks once more before acting: the second step names what will happen. */
export function ConfirmButton(props: {
  label: string;
  question: string;
  onConfirm: () => Promise<void> | void;
  disabled?: boolean;
  testid?: string;
}) {
  const [asking, setAsking] = useState(false);
  const confirmRef = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirmRef.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" disabled={props.disabled} data-testid={props.testid} onClick={() => setAsking(true)}>
        {props.label}
      </button>
    );
  return (
    <span class="confirm" role="group" aria-label={props.label}>
      <span>{props.question}</span>{' '}
      <button
        type="button"
        class="danger"
        ref={confirmRef}
        data-testid={props.testid && `${props.testid}-confirm`}
        onClick={async () => {
          setAsking(false);
          await props.onConfirm();
        }}
      >
        {t('console.confirm')}
      </button>{' '}
      <button type="button" onClick={() => setAsking(false)}>
        {t('console.cancel')}
      </button>
    </span>
  );
}

export function Section(props: { title: string; children: ComponentChildren; testid?: string }) {
  const id = useId();
  return (
    <section aria-labelledby={id} data-testid={props.testid} class="card">
      <h2 id={id}>{props.title}</h2>
      {props.children}
    </section>
  );
}

/**
 * Pages by cursor, as the host's lists give them: the cursor of this page, those of the pages
 * before it (to go back), and a reset for a new query.
 */
export function useCursorPages() {
  const [cursors, setCursors] = useState<(string | null)[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  return {
    cursor,
    page: cursors.length + 1,
    reset: () => {
      setCursors([]);
      setCursor(null);
    },
    back:
      cursors.length === 0
        ? undefined
        : () => {
            setCursor(cursors[cursors.length - 1] ?? null);
            setCursors(cursors.slice(0, -1));
          },
    forward: (next: string | null | undefined) =>
      next
        ? () => {
            setCursors([...cursors, cursor]);
            setCursor(next);
          }
        : undefined,
  };
}

/** Previous and next page buttons, each disabled when there is no such page. */
export function Pager({ back, forward }: { back: (() => void) | undefined; forward: (() => void) | undefined }) {
  return (
    <div class="pager">
      <button type="button" class="secondary" disabled={!back} data-testid="previous" onClick={back}>
        {t('console.previous')}
      </button>
      <button type="button" class="secondary" disabled={!forward} data-testid="next" onClick={forward}>
        {t('console.next')}
      </button>
    </div>
  );
}
