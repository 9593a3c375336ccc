import { isIP } from 'node:net';
import { VolactError, defaults, exitCodes } from '@volact/protocol';
import { Client, targetLabel } from '@volact/client';
import type { Clock } from '@volact/protocol';
import { adminCall } from './admin-client.js';
import { emit, iso } from './output.js';
import { qrText, qrWanted } from './qr.js';
import { adActivationOnline, adApplyCid, adGetIid, aoList, delAo, type LdapFlags } from './directory.js';
import { expiryText, licenseText } from './views/license.js';

/** The slmgr options volact knows, with how many values each takes (-1: the rest, joined; a code typed with spaces). */
const clientOptions = {
  ipk: 1, ato: 0, dli: 0, dlv: 0, xpr: 0, skms: 1, ckms: 0, upk: 0, cpky: 0, rearm: 0, dti: 0, atp: -1, 'skms-domain': 1, 'ckms-domain': 0, skhc: 0, ckhc: 0,
  'act-type': 1, 'ad-activation-online': [1, 2], 'ad-activation-get-iid': 1, 'ad-activation-apply-cid': [2, 3], 'ao-list': 0, 'del-ao': 1,
} as const;
const hostOptions = { ipk: 1, ato: 0, dli: 0, dlv: 0, xpr: 0, upk: 1, sai: 1, sri: 1, sprt: 1, dti: 0, atp: -1, sdns: 0, cdns: 0 } as const;

const usageOf: Record<string, string> = {
  'ad-activation-online': '-ad-activation-online HOST-KEY [NAME]',
  'ad-activation-get-iid': '-ad-activation-get-iid HOST-KEY',
  'ad-activation-apply-cid': '-ad-activation-apply-cid HOST-KEY CONFIRMATION-ID [NAME] (the confirmation ID as one word, hyphens between groups)',
  'del-ao': '-del-ao NAME (or its DN)',
  'act-type': '-act-type 0|1|2 (0 all channels, 1 directory only, 2 activation host only)',
};

export type SlmgrCall = { option: string; value: string | undefined; values: string[] };

/** Parses `-opt [value]` (or `/opt`); exactly one operation per call, as with slmgr. */
export function parseSlmgr(args: string[], host: boolean): SlmgrCall {
  const known: Record<string, number | readonly [number, number]> = host ? hostOptions : clientOptions;
  const ops = args.filter((a) => /^[-/][a-z]/i.test(a));
  if (ops.length !== 1 || !args[0] || args[0] !== ops[0]) {
    throw new VolactError('USAGE', { detail: `give exactly one slmgr option, like -dli; known ${host ? 'on a host' : 'on a client'}: ${Object.keys(known).map((k) => '-' + k).join(' ')}` });
  }
  const option = ops[0]!.slice(1).toLowerCase();
  const arity = known[option];
  if (arity === undefined) {
    const other = host ? (clientOptions as Record<string, unknown>)[option] : (hostOptions as Record<string, unknown>)[option];
    throw new VolactError('USAGE', { detail: other !== undefined ? `-${option} works ${host ? 'on a client (drop --host)' : 'on an activation host (add --host DIR)'}` : `unknown option -${option}; known: ${Object.keys(known).map((k) => '-' + k).join(' ')}` });
  }
  if (Array.isArray(arity)) {
    const [min, max] = arity as readonly [number, number];
    if (args.length - 1 < min || args.length - 1 > max) throw new VolactError('USAGE', { detail: `-${option} takes ${min} to ${max} values: ${usageOf[option] ?? ''}` });
    return { option, value: args[1], values: args.slice(1) };
  }
  if (arity === -1) {
    if (args.length < 2) throw new VolactError('USAGE', { detail: `-${option} takes the confirmation ID` });
    return { option, value: args.slice(1).join(''), values: args.slice(1) };
  }
  if (args.length - 1 !== arity) throw new VolactError('USAGE', { detail: arity ? `-${option} takes one value${usageOf[option] ? `: ${usageOf[option]}` : ''}` : `-${option} takes no value` });
  return { option, value: args[1], values: args.slice(1) };
}

/** `-skms` forms: host, host:port, :port, [v6]:port, [v6], bare v6. */
export function parseKms(spec: string): { host: string | null; port: number | null } {
  const bad = () => new VolactError('USAGE', { detail: `${spec} is not HOST, HOST:PORT, :PORT or [IPv6]:PORT` });
  let host: string | null;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(spec);
  if (bracket) {
    host = bracket[1]!;
    portText = bracket[2];
    if (isIP(host) !== 6) throw bad();
  } else if ((spec.match(/:/g) ?? []).length >= 2) {
    // a bare IPv6 address (slmgr wants brackets for one with a port), e.g. ::1
    if (isIP(spec) !== 6) throw bad();
    host = spec;
  } else if (spec.startsWith(':')) {
    host = null;
    portText = spec.slice(1);
  } else {
    const [h, p] = spec.split(':');
    host = h!;
    portText = p;
    if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/.test(host)) throw bad();
  }
  let port: number | null = null;
  if (portText !== undefined) {
    port = Number(portText);
    if (!/^\d{1,5}$/.test(portText) || port < 1 || port > 65535) throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'port', min: 1, max: 65535, value: portText });
  }
  if (host === null && port === null) throw bad();
  return { host, port };
}

/** Runs one slmgr operation on a client state directory. Returns the exit code. */
export async function slmgrClient(call: SlmgrCall, client: Client, json: boolean, ldap: LdapFlags = {}): Promise<number> {
  switch (call.option) {
    case 'act-type': {
      const types = { '0': 'all', '1': 'directory', '2': 'host', all: 'all', directory: 'directory', host: 'host' } as const;
      const typed = call.value!.toLowerCase();
      if (!Object.hasOwn(types, typed)) throw new VolactError('USAGE', { detail: usageOf['act-type']! });
      const t = types[typed as keyof typeof types];
      client.setActType(t);
      const words = { all: 'all channels (directory first, then an activation host)', directory: 'directory activation only', host: 'activation hosts only' };
      emit(json, { activationType: t }, () => `Activation type set to ${words[t]} successfully.`);
      return 0;
    }
    case 'ad-activation-online': {
      const r = await adActivationOnline(client, ldap, call.values[0]!, call.values[1]);
      emit(json, r, () =>
        `Activation object ${r.name} created successfully at ${r.dn} (${r.server}) for ${r.group}: ${r.editions.join(', ')}. Host key activations used: ${r.activationsUsed} of ${r.activationsLimit}. Members of the directory activate from it at their next start.`,
      );
      return 0;
    }
    case 'ad-activation-get-iid': {
      const r = await adGetIid(client, ldap, call.value!);
      emit(json, r, () => ['Installation ID of this directory and host key:', '', `  ${r.installationId}`, '', ...(qrWanted() ? [qrText(r.installationId)] : []), 'Give it to your publisher and apply the answer with: volact slmgr -ad-activation-apply-cid HOST-KEY CONFIRMATION-ID [NAME]'].join('\n'));
      return 0;
    }
    case 'ad-activation-apply-cid': {
      const r = await adApplyCid(client, ldap, call.values[0]!, call.values[1]!, call.values[2]);
      emit(json, r, () => `Activation object ${r.name} created successfully at ${r.dn} (${r.server}) from the confirmation ID, for ${r.group}: ${r.editions.join(', ')}.`);
      return 0;
    }
    case 'ao-list': {
      const r = await aoList(client, ldap);
      emit(json, r, () =>
        [`Activation objects in ${r.container} (${r.server}, directory ID ${r.directoryId}):`, ...(r.objects.length ? r.objects.map((o) => `  ${o.name}  ${o.status === 'valid' ? `valid, ${o.group} (${o.editions.join(', ')})${o.offline ? ', offline' : ''}` : `NOT VALID (${o.status}: ${o.detail})`}\n    ${o.dn}`) : ['  (none)'])].join('\n'),
      );
      return r.objects.every((o) => o.status === 'valid') ? 0 : exitCodes.trust;
    }
    case 'del-ao': {
      const r = await delAo(client, ldap, call.value!);
      emit(json, r, () => `Activation object ${r.deleted} deleted successfully. Members stop using it at their next read of the directory (within 7 days); those with no other valid object then use an activation host, unless -act-type 1 keeps them to the directory.`);
      return 0;
    }
    case 'ipk': {
      const s = client.installKey(call.value!);
      emit(json, { installed: s.key }, () => `Installed product key ${s.key!.partial} (${s.key!.keyClass} key, edition ${s.key!.edition}) successfully.`);
      return 0;
    }
    case 'upk':
      client.uninstallKey();
      emit(json, { uninstalled: true }, () => 'Uninstalled product key successfully.');
      return 0;
    case 'cpky': {
      const r = client.clearKeyText();
      emit(json, r, () => (r.cleared ? 'Product key removed from the state directory successfully.' : `Nothing cleared: ${r.reason}.`));
      return 0;
    }
    case 'skms': {
      const spec = parseKms(call.value!);
      const prev = client.state().kms;
      const s = client.setKms({ host: spec.host ?? prev.host, port: spec.port ?? (spec.host ? null : prev.port) });
      const shown = s.kms.host === null ? `(discovery):${s.kms.port ?? defaults.port}` : targetLabel(s.kms.host, s.kms.port ?? defaults.port);
      emit(json, { kms: s.kms }, () => `Activation host set to ${shown} successfully.`);
      return 0;
    }
    case 'skms-domain':
    case 'ckms-domain': {
      const s = client.setLookupDomain(call.option === 'skms-domain' ? call.value! : null);
      emit(json, { lookupDomain: s.discovery.domain }, () => (s.discovery.domain ? `Activation host lookup domain set to ${s.discovery.domain} successfully.` : 'Activation host lookup domain cleared successfully; the DNS search domains are used.'));
      return 0;
    }
    case 'skhc':
    case 'ckhc': {
      const s = client.setHostCaching(call.option === 'skhc');
      emit(json, { hostCaching: s.discovery.caching }, () => (s.discovery.caching ? 'Activation host caching enabled successfully.' : 'Activation host caching disabled successfully; hosts are discovered at every activation.'));
      return 0;
    }
    case 'ckms': {
      client.setKms({ host: null, port: null });
      emit(json, { kms: null }, () => 'Activation host cleared successfully; the default port is back.');
      return 0;
    }
    case 'dti': {
      const r = client.installationId();
      emit(json, r, () => ['Installation ID:', '', `  ${r.installationId}`, '', ...(qrWanted() ? [qrText(r.installationId)] : []), 'Give it to your publisher (volact authority confirm, or its web form) and apply the answer with: volact slmgr -atp CONFIRMATION-ID'].join('\n'));
      return 0;
    }
    case 'atp': {
      const r = client.applyConfirmation(call.value!);
      emit(json, { applied: true, edition: r.edition, at: iso(r.issuedAt) }, () => `Confirmation ID applied successfully: the product is permanently activated (offline, confirmed ${iso(r.issuedAt).slice(0, 10)}).`);
      return 0;
    }
    case 'rearm': {
      const s = client.rearm();
      emit(json, { machineId: s.machine.id, rearmsLeft: defaults.rearmLimit - s.rearmsUsed }, () => `Command completed successfully. New machine ID ${s.machine.id}; ${defaults.rearmLimit - s.rearmsUsed} rearm(s) left.`);
      return 0;
    }
    case 'ato': {
      // -ato is a start: a refused machine account ends directory activation now
      const outcome = await client.activate({ startup: true });
      const note = outcome.directoryNote ? `Directory activation not used: ${outcome.directoryNote}\n` : '';
      if (note && !json) process.stdout.write(note);
      switch (outcome.kind) {
        case 'directoryActivated':
        case 'directoryRenewed':
          emit(json, { outcome: outcome.kind, object: outcome.name, dn: outcome.dn, server: outcome.host, validUntil: iso(outcome.validUntil) }, () =>
            `Product activated successfully from the directory activation object ${outcome.name} (${outcome.dn}, read from ${outcome.host}); valid until ${iso(outcome.validUntil)}.`,
          );
          return 0;
        case 'makActivated': {
          const g = outcome.makGrant;
          emit(json, { outcome: outcome.kind, authority: outcome.host, edition: g.editionCode, activationsUsed: g.activationsUsed, activationsLimit: g.activationsLimit, activationsLeft: g.activationsLimit - g.activationsUsed }, () =>
            `Product activated successfully with a MAK (${g.editionName}): the machine is permanently activated. ${g.activationsLimit - g.activationsUsed} of ${g.activationsLimit} activations left on this MAK.`,
          );
          return 0;
        }
        case 'activated':
        case 'renewed':
          emit(json, { outcome: outcome.kind, host: outcome.host, validUntil: iso(outcome.grant.validUntil), count: outcome.grant.count, required: outcome.grant.required, directoryNote: outcome.directoryNote ?? null }, () =>
            `Product activated successfully by ${outcome.grant.hostName} (${outcome.host}); valid until ${iso(outcome.grant.validUntil)}. Count ${outcome.grant.count} of ${outcome.grant.required} needed.`,
          );
          return 0;
        case 'countInsufficient': {
          const e = new VolactError('COUNT_INSUFFICIENT', { count: outcome.count, required: outcome.required, retryMinutes: outcome.retryMinutes });
          emit(json, { outcome: outcome.kind, code: e.code, message: e.message, fix: e.fix, count: outcome.count, required: outcome.required, host: outcome.host, directoryNote: outcome.directoryNote ?? null }, () => `Error ${e.code}: ${e.message}\nFix: ${e.fix}`);
          return exitCodes.notYet;
        }
        case 'refused': {
          const e = new VolactError(outcome.code, outcome.detail);
          emit(json, { outcome: outcome.kind, code: e.code, message: e.message, fix: e.fix, count: outcome.count, host: outcome.host }, () => `Error ${e.code}: ${e.message}\nFix: ${e.fix}`);
          return e.exit;
        }
      }
      break;
    }
    case 'dli':
    case 'dlv':
    case 'xpr': {
      const d = client.details();
      if (call.option === 'xpr') {
        emit(json, { licenseState: d.licenseState, endsAt: d.endsAt }, () => expiryText(d));
        return 0;
      }
      emit(json, d, () => licenseText(d, call.option === 'dlv'));
      return 0;
    }
  }
  throw new VolactError('USAGE', { detail: `-${call.option} is not handled` });
}

type HostStatus = {
  hostName: string;
  hostId: string | null;
  activated: boolean;
  currentCount: number;
  thresholds: { client: number; server: number };
  port: number;
  listenAddress: string;
  retryMinutes: number;
  renewalMinutes: number;
  servedNetworks: string[];
  keys: { id: string; partialKey: string; group: number; activated: boolean; activatedAt: number | null }[];
  editions: { code: string; kind: string }[];
  requests: { total: number; failed: number; byOutcome: Record<string, number>; byLicenseState: Record<string, number> };
  machinesWithSeveralFingerprints: number;
};

type HostDns = {
  enabled: boolean;
  configured: boolean;
  domain: string | null;
  target: string | null;
  published: { domain: string }[];
  unconfirmed: { domain: string }[];
  events: { event: number; code: string | null }[];
};

/** The host's DNS line: only what the DNS server confirmed is "published"; records sent without an answer are said apart. */
function dnsSummary(d: HostDns): string {
  const last = d.events.at(-1);
  return [
    ...(d.configured ? [`${d.target} in ${d.domain}`] : []),
    d.published.length ? `published in ${d.published.map((p) => p.domain).join(', ')}` : 'nothing published yet',
    ...(d.unconfirmed.length ? [`sent, not confirmed in ${d.unconfirmed.map((u) => u.domain).join(', ')}`] : []),
    ...(last?.event === 12293 ? [`last update failed: ${last.code} (see volact host dns)`] : []),
  ].join('; ');
}

/** Runs one slmgr operation against a running activation host's admin socket. */
export async function slmgrHost(call: SlmgrCall, dir: string, json: boolean): Promise<number> {
  const settings = async (name: string) => {
    const value = Number(call.value);
    if (!/^-?\d+$/.test(call.value ?? '')) throw new VolactError('VALUE_OUT_OF_RANGE', { name, min: name === 'port' ? 1 : defaults.intervalMinMinutes, max: name === 'port' ? 65535 : defaults.intervalMaxMinutes, value: call.value ?? '' });
    const status = await adminCall<HostStatus>(dir, 'POST', '/settings', { [name]: value });
    const label = { retryMinutes: 'Activation interval', renewalMinutes: 'Renewal interval', port: 'Listening port' }[name];
    emit(json, status, () => `${label} set to ${value}${name === 'port' ? '' : ' minutes'} successfully.`);
    return 0;
  };
  switch (call.option) {
    case 'ipk': {
      const r = await adminCall<{ id: string; partial: string; group: number }>(dir, 'POST', '/keys', { key: call.value });
      emit(json, r, () => `Installed host key ${r.partial} for product group ${r.group} successfully (ID ${r.id}). Activate it with -ato.`);
      return 0;
    }
    case 'upk': {
      const r = await adminCall<{ removed: number }>(dir, 'POST', '/keys/remove', { which: call.value });
      emit(json, r, () => (r.removed ? 'Uninstalled host key successfully.' : 'No installed host key has that ID or those last five characters.'));
      return r.removed ? 0 : exitCodes.input;
    }
    case 'ato': {
      const r = await adminCall<{ activated: { id: string; group: string; hostsUsed: number; hostsLimit: number; activationsUsed: number; activationsLimit: number }[] }>(dir, 'POST', '/activate', { force: true });
      emit(json, r, () =>
        r.activated.map((a) => `Host key ${a.id} (${a.group}) activated successfully: ${a.hostsUsed} of ${a.hostsLimit} hosts, ${a.activationsUsed} of ${a.activationsLimit} activations used.`).join('\n'),
      );
      return 0;
    }
    case 'dti': {
      const r = await adminCall<{ keys: { id: string; group: number; activated: boolean; installationId: string }[] }>(dir, 'GET', '/offline/installation-ids');
      emit(json, r, () =>
        r.keys
          .map((k) => [`Host key ${k.id} (group ${k.group}${k.activated ? ', already activated' : ''}), installation ID:`, '', `  ${k.installationId}`, '', ...(qrWanted() ? [qrText(k.installationId)] : [])].join('\n'))
          .concat('Give it to your publisher and apply the answer with: volact slmgr --host DIR -atp CONFIRMATION-ID')
          .join('\n'),
      );
      return 0;
    }
    case 'atp': {
      const r = await adminCall<{ id: string; group: string }>(dir, 'POST', '/offline/confirm', { confirmationId: call.value });
      emit(json, r, () => `Confirmation ID applied successfully: host key ${r.id} (${r.group}) is activated.`);
      return 0;
    }
    case 'sdns':
    case 'cdns': {
      const r = await adminCall<{ enabled: boolean; configured: boolean }>(dir, 'POST', '/dns', { enabled: call.option === 'sdns' });
      emit(json, r, () => (r.enabled ? `DNS publishing enabled successfully${r.configured ? '; the host publishes now and every 24 hours' : ' (not configured yet: host serve --dns-server, --dns-domain, --tsig-key)'}.` : 'DNS publishing disabled successfully; published records stay until volact host unpublish.'));
      return 0;
    }
    case 'sai':
      return settings('retryMinutes');
    case 'sri':
      return settings('renewalMinutes');
    case 'sprt':
      return settings('port');
    case 'dli':
    case 'dlv':
    case 'xpr': {
      const s = await adminCall<HostStatus>(dir, 'GET', '/status');
      const lines = [
        `Activation host ${s.hostName}${s.hostId ? ` (host ID ${s.hostId})` : ''}`,
        `Host activation: ${s.activated ? 'activated (does not expire)' : 'NOT activated'}`,
        `Current count: ${s.currentCount}  (client editions need ${s.thresholds.client}, server editions ${s.thresholds.server})`,
        `Listening on port: ${s.port}`,
        `Activation interval: ${s.retryMinutes} minutes`,
        `Renewal interval: ${s.renewalMinutes} minutes`,
      ];
      if (call.option === 'dlv') {
        lines.push(
          `Listening on address: ${s.listenAddress}`,
          `Served networks: ${s.servedNetworks.join(', ')}`,
          `Host keys: ${s.keys.map((k) => `${k.id} (group ${k.group}, ${k.activated ? 'activated' : 'not activated'})`).join('; ') || '-'}`,
          `Editions it activates: ${s.editions.map((e) => `${e.code} (${e.kind})`).join(', ') || '-'}`,
          `Total requests received: ${s.requests.total}`,
          `Failed requests received: ${s.requests.failed}`,
          ...Object.entries(s.requests.byOutcome).map(([k, v]) => `  outcome ${k}: ${v}`),
          ...Object.entries(s.requests.byLicenseState).map(([k, v]) => `  requests with license state ${k}: ${v}`),
          `Machine IDs seen with several fingerprints: ${s.machinesWithSeveralFingerprints}`,
        );
        const d = await adminCall<HostDns>(dir, 'GET', '/dns?limit=1');
        lines.push(`DNS publishing: ${d.enabled ? 'enabled' : 'disabled'}${d.configured || d.published.length || d.unconfirmed.length ? ` (${dnsSummary(d)})` : ' (not configured)'}`);
        emit(json, { ...s, dns: d }, () => lines.join('\n'));
        return 0;
      }
      emit(json, s, () => (call.option === 'xpr' ? lines[1]! : lines.join('\n')));
      return 0;
    }
  }
  throw new VolactError('USAGE', { detail: `-${call.option} is not handled` });
}

export function clientFor(dir: string, clock: Clock): Client {
  return new Client({ dir, clock });
}
