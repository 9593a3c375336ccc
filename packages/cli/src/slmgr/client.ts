import { VolactError, defaults } from '@volact/protocol';
import type { Client } from '@volact/client';
import type { LdapFlags } from '../ldap-options.js';
import { t } from '../lang.js';
import { iso } from '../output.js';
import { qrText, qrWanted } from '../qr.js';
import { slmgrOption, type SlmgrOption } from './option.js';
import { directoryOptions } from './directory.js';
import { parseKms } from './kms-address.js';
import { statusOptions } from './client-status.js';

/** What a client option acts on: the machine's state directory, and the directory flags for -ad-* and -ao-*. */
export type ClientContext = { client: Client; ldap: LdapFlags };

const op = slmgrOption<ClientContext>();

/** The authority console's offline activation page (the "web form" -dti points to): the configured authority's, else a pattern. */
function offlinePage(authority: string | null): string {
  return `${authority ? authority.replace(/\/+$/, '') : 'https://AUTHORITY'}/console/#/offline`;
}

const actTypeUsage = '-act-type 0|1|2 (0 all channels, 1 directory only, 2 activation host only)';
const actTypes = {
  '0': 'all',
  '1': 'directory',
  '2': 'host',
  all: 'all',
  directory: 'directory',
  host: 'host',
} as const;
const actTypeWords = {
  all: 'all channels (directory first, then an activation host)',
  directory: 'directory activation only',
  host: 'activation hosts only',
};

/** The options of `volact slmgr` on a client, in the order `known:` lists them. */
export const clientOptions: Record<string, SlmgrOption<ClientContext, unknown>> = {
  ipk: op({
    arity: 1,
    run: ({ client }, call) => ({ installed: client.installKey(call.value!).key! }),
    render: ({ installed: k }) =>
      `Installed product key ${k.partial} (${k.keyClass} key, edition ${k.edition}) successfully.`,
  }),
  ato: statusOptions.ato,
  dli: statusOptions.dli,
  dlv: statusOptions.dlv,
  xpr: statusOptions.xpr,
  skms: op({
    arity: 1,
    run: async ({ client }, call) => {
      const spec = parseKms(call.value!);
      const prev = client.state().kms;
      const s = client.setKms({ host: spec.host ?? prev.host, port: spec.port ?? (spec.host ? null : prev.port) });
      const { targetLabel } = await import('@volact/client');
      return {
        kms: s.kms,
        shown:
          s.kms.host === null
            ? `(discovery):${s.kms.port ?? defaults.port}`
            : targetLabel(s.kms.host, s.kms.port ?? defaults.port),
      };
    },
    json: (r) => ({ kms: r.kms }),
    render: (r) => `Activation host set to ${r.shown} successfully.`,
  }),
  ckms: op({
    arity: 0,
    run: ({ client }) => {
      client.setKms({ host: null, port: null });
      return { kms: null };
    },
    render: () => 'Activation host cleared successfully; the default port is back.',
  }),
  upk: op({
    arity: 0,
    run: ({ client }) => {
      client.uninstallKey();
      return { uninstalled: true };
    },
    render: () => 'Uninstalled product key successfully.',
  }),
  cpky: op({
    arity: 0,
    run: ({ client }) => client.clearKeyText(),
    render: (r) =>
      r.cleared ? 'Product key removed from the state directory successfully.' : `Nothing cleared: ${r.reason}.`,
  }),
  rearm: op({
    arity: 0,
    run: ({ client }) => {
      const s = client.rearm();
      return { machineId: s.machine.id, rearmsLeft: defaults.rearmLimit - s.rearmsUsed };
    },
    render: (r) => `Command completed successfully. New machine ID ${r.machineId}; ${r.rearmsLeft} rearm(s) left.`,
  }),
  dti: op({
    arity: 0,
    run: ({ client }) => ({
      ...client.installationId(),
      authority: process.env.VOLACT_AUTHORITY_URL ?? client.state().authorityUrl,
    }),
    json: ({ installationId, type }) => ({ installationId, type }),
    render: (r) =>
      [
        t('dti.installationId'),
        '',
        `  ${r.installationId}`,
        '',
        ...(qrWanted() ? [qrText(r.installationId)] : []),
        t('dti.giveIt', { page: offlinePage(r.authority) }),
      ].join('\n'),
  }),
  atp: op({
    arity: -1,
    run: ({ client }, call) => {
      const r = client.applyConfirmation(call.value!);
      return { applied: true, edition: r.edition, at: iso(r.issuedAt) };
    },
    render: (r) =>
      `Confirmation ID applied successfully: the product is permanently activated (offline, confirmed ${r.at.slice(0, 10)}).`,
  }),
  'skms-domain': op({
    arity: 1,
    run: ({ client }, call) => ({ lookupDomain: client.setLookupDomain(call.value!).discovery.domain }),
    render: (r) =>
      r.lookupDomain
        ? `Activation host lookup domain set to ${r.lookupDomain} successfully.`
        : 'Activation host lookup domain cleared successfully; the DNS search domains are used.',
  }),
  'ckms-domain': op({
    arity: 0,
    run: ({ client }) => ({ lookupDomain: client.setLookupDomain(null).discovery.domain }),
    render: (r) =>
      r.lookupDomain
        ? `Activation host lookup domain set to ${r.lookupDomain} successfully.`
        : 'Activation host lookup domain cleared successfully; the DNS search domains are used.',
  }),
  skhc: op({
    arity: 0,
    run: ({ client }) => ({ hostCaching: client.setHostCaching(true).discovery.caching }),
    render: (r) =>
      r.hostCaching
        ? 'Activation host caching enabled successfully.'
        : 'Activation host caching disabled successfully; hosts are discovered at every activation.',
  }),
  ckhc: op({
    arity: 0,
    run: ({ client }) => ({ hostCaching: client.setHostCaching(false).discovery.caching }),
    render: (r) =>
      r.hostCaching
        ? 'Activation host caching enabled successfully.'
        : 'Activation host caching disabled successfully; hosts are discovered at every activation.',
  }),
  'act-type': op({
    arity: 1,
    usage: actTypeUsage,
    run: ({ client }, call) => {
      const typed = call.value!.toLowerCase();
      if (!Object.hasOwn(actTypes, typed)) throw new VolactError('USAGE', { detail: actTypeUsage });
      const t = actTypes[typed as keyof typeof actTypes];
      client.setActType(t);
      return { activationType: t };
    },
    render: (r) => `Activation type set to ${actTypeWords[r.activationType]} successfully.`,
  }),
  ...directoryOptions,
};
