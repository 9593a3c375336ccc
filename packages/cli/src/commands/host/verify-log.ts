import type { Command } from 'commander';
import { VolactError, errorBody } from '@volact/protocol';
import type { LogVerification } from '@volact/host';
import { fail } from '../../output.js';
import { defaultHostDir } from './inputs.js';

/** The human rendering: a summary, and the first bad record when there is one. */
function render(r: LogVerification): string {
  const lines = [
    `host        ${r.hostId}${r.activated ? '' : ' (not activated)'}`,
    `records     ${r.records}${r.firstSeq === null ? '' : ` (seq ${r.firstSeq} to ${r.lastSeq})`}`,
    `checkpoints ${r.checkpoints}${r.newestCheckpoint ? `, newest at seq ${r.newestCheckpoint.seq}, ${r.newestCheckpoint.at}` : ''}`,
    `unsigned    ${r.unsigned} (records after the newest checkpoint)`,
  ];
  if (r.first) {
    const f = r.first;
    lines.push(`first bad   ${f.kind} seq ${f.seq ?? '-'} (row ${f.id ?? '-'}): ${f.problem}: ${f.detail}`);
  } else lines.push('intact');
  return lines.join('\n');
}

/** `volact host verify-log`: checks the host log's hash chain and signed checkpoints. */
export function registerVerifyLog(cmd: Command): void {
  cmd
    .command('verify-log')
    .description('check the host log (events and settings changes): hash chain and signed checkpoints')
    .option('--state <dir>', 'host state directory (env VOLACT_HOST_DIR)')
    .option('--dir <dir>', 'the same as --state')
    .option('--json', 'JSON output')
    .action(async (o: { state?: string; dir?: string; json?: boolean }) => {
      const json = Boolean(o.json);
      try {
        const { verifyLogDir } = await import('@volact/host');
        const r = verifyLogDir(o.state ?? o.dir ?? defaultHostDir());
        if (r.first) {
          const { kind, seq, problem, detail } = r.first;
          const e = new VolactError('LOG_TAMPERED', { file: r.file, kind, seq: seq ?? '-', problem, detail });
          if (json) process.stdout.write(JSON.stringify({ ...r, error: errorBody(e) }, null, 2) + '\n');
          else {
            process.stdout.write(render(r) + '\n');
            process.stderr.write(`Error ${e.code}: ${e.message}\nFix: ${e.fix}\n`);
          }
          process.exit(e.exit);
        }
        process.stdout.write((json ? JSON.stringify(r, null, 2) : render(r)) + '\n');
      } catch (err) {
        fail(err, json);
      }
    });
}
