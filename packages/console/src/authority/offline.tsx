/**
 * Offline activation, the "web form" of `slmgr -dti`: one installation ID without login (the
 * public, rate-limited POST /v1/offline-confirmations), and with the issue scope a whole file in
 * chunks to POST /v1/admin/offline-confirmations, with progress and the results as a download.
 */
import QRCode from 'qrcode';
import { useEffect, useState } from 'preact/hooks';
import { allows, api } from '../common/api.js';
import type { PageProps } from '../common/app.js';
import { errorText, t } from '../common/i18n.js';
import { ErrorNote, Section, Table, announce } from '../common/ui.js';
import { readIdFile, writeResults, type BulkResult, type IdLine } from './id-file.js';

type Confirmed = {
  type: string;
  installationId: string;
  confirmationId: string;
  keyId: string;
  outcome: string;
  used: number;
  limit: number;
};
const CHUNK = 100;

function ConfirmationView({ c }: { c: Confirmed }) {
  const [qr, setQr] = useState<string | undefined>(undefined);
  useEffect(() => {
    QRCode.toDataURL(c.confirmationId, { errorCorrectionLevel: 'M', margin: 2, scale: 4 }).then(setQr, () =>
      setQr(undefined),
    );
  }, [c.confirmationId]);
  return (
    <div class="card" data-testid="confirmation">
      <h3>{t('console.off.cid')}</h3>
      <p class="cid mono" data-testid="cid" data-cid={c.confirmationId}>
        {c.confirmationId.split('-').map((g) => (
          <span>{g}</span>
        ))}
      </p>
      <p>
        {t('console.off.result', { type: c.type, keyId: c.keyId, outcome: c.outcome, used: c.used, limit: c.limit })}
      </p>
      <button
        type="button"
        data-testid="copy"
        onClick={async () => {
          await navigator.clipboard.writeText(c.confirmationId);
          announce(t('console.off.copied'));
        }}
      >
        {t('console.off.copy')}
      </button>
      {qr && <img src={qr} alt={t('console.off.qr')} data-testid="qr" />}
    </div>
  );
}

function Single() {
  const [result, setResult] = useState<Confirmed | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <Section title={t('console.off.iid')}>
      <p id="iid-help">{t('console.off.intro')}</p>
      <form
        class="fields"
        data-testid="offline-form"
        onSubmit={async (e) => {
          e.preventDefault();
          const iid = String(new FormData(e.currentTarget).get('iid') ?? '').trim();
          setBusy(true);
          try {
            setResult(
              await api<Confirmed>('/v1/offline-confirmations', {
                method: 'POST',
                body: { v: 1, installationId: iid },
              }),
            );
            setError(undefined);
          } catch (err) {
            setResult(undefined);
            setError(err);
          } finally {
            setBusy(false);
          }
        }}
      >
        <label>
          {t('console.off.iid')}
          <textarea
            name="iid"
            rows={3}
            cols={60}
            required
            spellcheck={false}
            aria-describedby="iid-help"
            data-testid="iid"
          />
        </label>
        <button type="submit" disabled={busy} data-testid="get-cid">
          {t('console.off.submit')}
        </button>
      </form>
      <ErrorNote error={error} />
      {result && <ConfirmationView c={result} />}
    </Section>
  );
}

/** One row per line of the file: its label, its installation ID, the confirmation ID or the error. */
function BulkResults({ lines, results }: { lines: IdLine[]; results: BulkResult[] }) {
  return (
    <Table
      caption={t('console.off.results')}
      rows={results.map((r, i) => ({ r, line: lines[i]! }))}
      testid="bulk-results"
      columns={[
        { label: t('console.off.label'), cell: ({ line }) => line.label },
        { label: t('console.off.iid'), cell: ({ line }) => <span class="mono">{line.iid}</span> },
        {
          label: t('console.off.outcome'),
          cell: ({ r }) =>
            r.ok ? (
              <span class="mono" data-cid={r.confirmationId}>
                {r.confirmationId}
              </span>
            ) : (
              <span data-code={r.error.code}>
                {t('console.error', {
                  code: r.error.code,
                  message: errorText(r.error.code, r.error.params ?? {}, { message: r.error.message, fix: '' }).message,
                })}
              </span>
            ),
        },
      ]}
    />
  );
}

function Bulk() {
  const [progress, setProgress] = useState<{ done: number; total: number } | undefined>(undefined);
  const [download, setDownload] = useState<
    { url: string; confirmed: number; lines: IdLine[]; results: BulkResult[] } | undefined
  >(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const run = async (file: File) => {
    const lines = readIdFile(await file.text());
    if (lines.length === 0) return setError(new Error(t('console.off.empty')));
    const results: BulkResult[] = [];
    setError(undefined);
    setDownload(undefined);
    setProgress({ done: 0, total: lines.length });
    try {
      for (let i = 0; i < lines.length; i += CHUNK) {
        const chunk = lines.slice(i, i + CHUNK);
        const answer = await api<{ results: BulkResult[] }>('/v1/admin/offline-confirmations', {
          method: 'POST',
          body: { v: 1, installationIds: chunk.map((l) => l.iid) },
        });
        results.push(...answer.results);
        setProgress({ done: results.length, total: lines.length });
      }
    } catch (err) {
      setError(err);
      return;
    }
    const confirmed = results.filter((r) => r.ok).length;
    const url = URL.createObjectURL(new Blob([writeResults(lines, results)], { type: 'text/plain' }));
    setDownload({ url, confirmed, lines, results });
    announce(t('console.off.summary', { confirmed, failed: results.length - confirmed }));
  };
  return (
    <form class="fields" data-testid="bulk-form" onSubmit={(e) => e.preventDefault()}>
      <label>
        {t('console.off.file')}
        <input
          type="file"
          accept=".txt,text/plain"
          data-testid="bulk-file"
          onChange={(e) => {
            const file = e.currentTarget.files?.[0];
            if (file) void run(file);
          }}
        />
      </label>
      {progress && (
        <label>
          {t('console.off.progress', progress)}
          <progress max={progress.total} value={progress.done} data-testid="bulk-progress" />
        </label>
      )}
      <ErrorNote error={error} />
      {download && (
        <p>
          {t('console.off.summary', {
            confirmed: download.confirmed,
            failed: download.results.length - download.confirmed,
          })}{' '}
          <a href={download.url} download="confirmations.txt" data-testid="bulk-download">
            {t('console.off.download')}
          </a>
        </p>
      )}
      {download && <BulkResults lines={download.lines} results={download.results} />}
    </form>
  );
}

export function Offline({ session }: PageProps) {
  return (
    <>
      <h1>{t('console.page.offline')}</h1>
      <Single />
      <Section title={t('console.off.bulk')}>
        {allows(session, 'issue') ? <Bulk /> : <p>{t('console.off.needsIssue')}</p>}
      </Section>
    </>
  );
}
