import type { Command } from 'commander';
import { VolactError, increaseFiledSchema, increaseRecordSchema, type Schema } from '@volact/protocol';
import { callAuthority } from '@volact/io';
import { emit, fail } from '../../output.js';
import { openClient } from './open-client.js';

/**
 * POSTs to the authority (from --authority, VOLACT_AUTHORITY_URL or the client state) and reads
 * the answer with the schema the authority's API description has for it; errors keep their codes.
 */
async function askAuthority<T>(
  o: Record<string, string | boolean | undefined>,
  path: string,
  body: unknown,
  answer: Schema<T>,
): Promise<T> {
  const client = await openClient(o.state as string | undefined);
  const base = (o.authority as string | undefined) ?? process.env.VOLACT_AUTHORITY_URL ?? client.state().authorityUrl;
  if (!base) throw new VolactError('NO_AUTHORITY');
  return callAuthority(base, path, body, answer);
}

/** `volact client request-increase` and `request-status`: ask the publisher for more, and follow the request. */
export function registerRequests(cmd: Command): void {
  cmd
    .command('request-increase')
    .description('ask the publisher for more activations (MAK, host key) or hosts (host key)')
    .requiredOption('--key <key>', 'the MAK or host key the request is about')
    .requiredOption('--count <n>', 'how many more')
    .option('--what <what>', 'activations | hosts', 'activations')
    .requiredOption('--reason <text>', 'why (the publisher reads it)')
    .option('--authority <url>', 'authority URL (default: the one set with client trust)')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const r = await askAuthority(
          o,
          '/v1/increase-requests',
          {
            v: 1,
            key: o.key,
            what: o.what,
            amount: Number(o.count),
            reason: o.reason,
          },
          increaseFiledSchema,
        );
        emit(
          Boolean(o.json),
          r,
          () =>
            `Request ${r.id} filed; it is pending. Check it with volact client request-status --id ${r.id} --key KEY.`,
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
  cmd
    .command('request-status')
    .description('the state of an increase request, with every step')
    .requiredOption('--id <id>', 'request ID (IR-…)')
    .requiredOption('--key <key>', 'the key the request is about')
    .option('--authority <url>', 'authority URL (default: the one set with client trust)')
    .option('--state <dir>', 'client state directory (env VOLACT_STATE_DIR)')
    .option('--json', 'JSON output')
    .action(async (o: Record<string, string | boolean | undefined>) => {
      try {
        const r = await askAuthority(
          o,
          '/v1/increase-requests/status',
          { v: 1, key: o.key, id: o.id },
          increaseRecordSchema,
        );
        emit(Boolean(o.json), r, () =>
          [
            `Request ${r.id}: ${r.state}`,
            ...r.steps.map((st) => `  ${new Date(st.at).toISOString()}  ${st.step}: ${st.detail}`),
          ].join('\n'),
        );
      } catch (err) {
        fail(err, Boolean(o.json));
      }
    });
}
