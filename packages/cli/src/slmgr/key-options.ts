import { VolactError, exitCodes, parseOfflineBundle } from '@volact/protocol';
import type { CatalogUpdate, KeyActivation } from '@volact/host';
import { adminCall } from '../admin-client.js';
import { fileLimits, readUserFile } from '../files.js';
import { qrText, qrWanted } from '../qr.js';
import { slmgrOption, type SlmgrOption } from './option.js';

/** What a key option acts on: the state directory of a running host or agent, reached through its admin socket. */
type DirContext = { dir: string };

/**
 * -ipk, -upk, -ato, -dti, -atp and -upd-catalog of a machine the authority activates: an activation host with
 * its host keys, or a hypervisor agent with its datacenter keys. They speak to the same admin
 * routes (HostActivation behind both) and differ only in their words.
 */
export function keyOptions<Ctx extends DirContext>(words: {
  /** "host key" or "datacenter key". */
  key: string;
  /** What one slot of the key is: "hosts" or "hypervisors". */
  slots: string;
  /** The slmgr flag that names the machine: "--host" or "--hypervisor". */
  flag: string;
  /** The error when nothing answers on the admin socket. */
  unavailable?: 'ADMIN_UNAVAILABLE' | 'HYPERVISOR_UNAVAILABLE';
}): Record<'ipk' | 'upk' | 'ato' | 'dti' | 'atp' | 'upd-catalog', SlmgrOption<Ctx, unknown>> {
  const op = slmgrOption<Ctx>();
  const call = <T>(dir: string, method: 'GET' | 'POST', path: string, body?: unknown) =>
    adminCall<T>(dir, method, path, body, words.unavailable);
  const Key = words.key[0]!.toUpperCase() + words.key.slice(1);
  return {
    ipk: op({
      arity: 1,
      run: ({ dir }, c) => call<{ id: string; partial: string; group: number }>(dir, 'POST', '/keys', { key: c.value }),
      render: (r) =>
        `Installed ${words.key} ${r.partial} for product group ${r.group} successfully (ID ${r.id}). Activate it with -ato.`,
    }),
    upk: op({
      arity: 1,
      run: ({ dir }, c) => call<{ removed: number }>(dir, 'POST', '/keys/remove', { which: c.value }),
      render: (r) =>
        r.removed
          ? `Uninstalled ${words.key} successfully.`
          : `No installed ${words.key} has that ID or those last five characters.`,
      exit: (r) => (r.removed ? 0 : exitCodes.input),
    }),
    ato: op({
      arity: 0,
      run: ({ dir }) => call<{ activated: KeyActivation[] }>(dir, 'POST', '/activate', { force: true }),
      render: (r) =>
        r.activated
          .map(
            (a) =>
              `${Key} ${a.id} (${a.group}) activated successfully: ${a.hostsUsed} of ${a.hostsLimit} ${words.slots}, ${a.activationsUsed} of ${a.activationsLimit} activations used.`,
          )
          .join('\n'),
    }),
    dti: op({
      arity: 0,
      run: ({ dir }) =>
        call<{ keys: { id: string; group: number; activated: boolean; installationId: string }[] }>(
          dir,
          'GET',
          '/offline/installation-ids',
        ),
      render: (r) =>
        r.keys
          .map((k) =>
            [
              `${Key} ${k.id} (group ${k.group}${k.activated ? ', already activated' : ''}), installation ID:`,
              '',
              `  ${k.installationId}`,
              '',
              ...(qrWanted() ? [qrText(k.installationId)] : []),
            ].join('\n'),
          )
          .concat(
            `Give it to your publisher and apply the answer with: volact slmgr ${words.flag} DIR -atp CONFIRMATION-ID`,
          )
          .join('\n'),
    }),
    atp: op({
      arity: -1,
      run: ({ dir }, c) =>
        call<{ id: string; group: string }>(dir, 'POST', '/offline/confirm', { confirmationId: c.value }),
      render: (r) => `Confirmation ID applied successfully: ${words.key} ${r.id} (${r.group}) is activated.`,
    }),
    'upd-catalog': op({
      arity: [0, 1],
      usage: '-upd-catalog [FILE] (the offline bundle or a {"catalog","issuer"} file; none: from the authority)',
      run: ({ dir }, c) =>
        call<CatalogUpdate>(dir, 'POST', '/catalog', c.value === undefined ? {} : catalogFile(c.value)),
      render: (r) =>
        r.outcome === 'current'
          ? `The catalog is already current (serial ${r.serial}).`
          : `Catalog updated successfully: serial ${r.previous ?? '-'} to ${r.serial}; ${r.added.length ? `now also activates ${r.added.join(', ')}` : 'no new editions for the installed keys'}. No activation was used.`,
    }),
  };
}

/**
 * The signed catalog in a file: the publisher's offline bundle (volact authority offline-bundle)
 * or `{ "catalog", "issuer" }` (volact authority catalog --export). The host verifies it.
 */
function catalogFile(path: string): { catalog: string; issuer: string } {
  const text = readUserFile(path, 'catalog', fileLimits.bundle);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  const r = raw as { catalog?: unknown; issuer?: unknown } | undefined;
  if (r && typeof r.catalog === 'string' && typeof r.issuer === 'string' && !('root' in r))
    return { catalog: r.catalog, issuer: r.issuer };
  const bundle = parseOfflineBundle(text);
  if (!bundle)
    throw new VolactError('USAGE', {
      detail: `${path} is neither an offline bundle nor a {"catalog","issuer"} file`,
    });
  return { catalog: bundle.catalog, issuer: bundle.catalogIssuer };
}
