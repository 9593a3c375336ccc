import { offlineBundleSchema, type OfflineBundle } from './documents.js';
import { VolactError } from './errors.js';
import { parseWith } from './schema.js';

/** An offline bundle's text, or undefined when `text` is not one (a PEM). Malformed bundles are errors. */
export function parseOfflineBundle(text: string): OfflineBundle | undefined {
  if (!text.trimStart().startsWith('{')) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new VolactError('USAGE', {
      detail:
        'the trust file looks like JSON but is not valid JSON; give root.pub or the offline bundle as written by volact authority offline-bundle',
    });
  }
  return parseWith(
    offlineBundleSchema,
    raw,
    (p) => new VolactError('USAGE', { detail: `the offline bundle is invalid: ${p.field} ${p.problem}` }),
  );
}
