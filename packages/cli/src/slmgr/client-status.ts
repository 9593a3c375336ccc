import { VolactError } from '@volact/protocol';
import type { Client } from '@volact/client';
import { iso } from '../output.js';
import { slmgrOption } from './option.js';
import type { ClientContext } from './client.js';

const op = slmgrOption<ClientContext>();

type Outcome = Awaited<ReturnType<Client['activate']>>;
type Details = ReturnType<Client['details']>;

const stateNames = { unlicensed: 'Unlicensed', initialGrace: 'Initial grace period', licensed: 'Licensed', ootGrace: 'Out-of-tolerance grace period', notification: 'Notification' } as const;

/** The error an answer that did not activate stands for. */
function refusal(o: Outcome): VolactError | null {
  if (o.kind === 'countInsufficient') return new VolactError('COUNT_INSUFFICIENT', { count: o.count, required: o.required, retryMinutes: o.retryMinutes });
  if (o.kind === 'refused') return new VolactError(o.code, o.detail);
  return null;
}

function atoJson(o: Outcome): unknown {
  switch (o.kind) {
    case 'directoryActivated':
    case 'directoryRenewed':
      return { outcome: o.kind, object: o.name, dn: o.dn, server: o.host, validUntil: iso(o.validUntil) };
    case 'makActivated': {
      const g = o.makGrant;
      return { outcome: o.kind, authority: o.host, edition: g.editionCode, activationsUsed: g.activationsUsed, activationsLimit: g.activationsLimit, activationsLeft: g.activationsLimit - g.activationsUsed };
    }
    case 'activated':
    case 'renewed':
      return { outcome: o.kind, host: o.host, validUntil: iso(o.grant.validUntil), count: o.grant.count, required: o.grant.required, directoryNote: o.directoryNote ?? null };
    case 'countInsufficient': {
      const e = refusal(o)!;
      return { outcome: o.kind, code: e.code, message: e.message, fix: e.fix, count: o.count, required: o.required, host: o.host, directoryNote: o.directoryNote ?? null };
    }
    case 'refused': {
      const e = refusal(o)!;
      return { outcome: o.kind, code: e.code, message: e.message, fix: e.fix, count: o.count, host: o.host };
    }
  }
}

function atoText(o: Outcome): string {
  switch (o.kind) {
    case 'directoryActivated':
    case 'directoryRenewed':
      return `Product activated successfully from the directory activation object ${o.name} (${o.dn}, read from ${o.host}); valid until ${iso(o.validUntil)}.`;
    case 'makActivated': {
      const g = o.makGrant;
      return `Product activated successfully with a MAK (${g.editionName}): the machine is permanently activated. ${g.activationsLimit - g.activationsUsed} of ${g.activationsLimit} activations left on this MAK.`;
    }
    case 'activated':
    case 'renewed':
      return `Product activated successfully by ${o.grant.hostName} (${o.host}); valid until ${iso(o.grant.validUntil)}. Count ${o.grant.count} of ${o.grant.required} needed.`;
    case 'countInsufficient':
    case 'refused': {
      const e = refusal(o)!;
      return `Error ${e.code}: ${e.message}\nFix: ${e.fix}`;
    }
  }
}

function licenseLines(d: Details): string[] {
  return [
    `Description: ${d.channel ?? '(no key)'} channel`,
    `Partial Product Key: ${d.partialKey ?? '-'}`,
    `Edition: ${d.edition ? `${d.edition.name ?? '?'} (${d.edition.number})` : '-'}`,
    `License Status: ${stateNames[d.licenseState]}${d.endsAt ? ` (ends ${d.endsAt})` : ''}`,
    `Reason: ${d.reason}`,
  ];
}

function verboseLines(d: Details): string[] {
  return [
    `Machine ID: ${d.machineId}${d.identity ? ` (identity ${d.identity})` : ''}`,
    ...(d.mak ? [`MAK ${d.mak.id}: activated by ${d.mak.authority} at ${d.mak.at}${d.mak.activationsLeft === null ? '' : `; ${d.mak.activationsLeft} of ${d.mak.activationsLimit} activations left`}`] : []),
    `Activated by host: ${d.activatedBy ? `${d.activatedBy.hostName} (ID ${d.activatedBy.hostId}) at ${d.activatedBy.address}, ${d.activatedBy.at}` : '-'}`,
    `Activation valid until: ${d.validUntil ?? '-'}`,
    `Pinned activation host: ${d.pinnedHost ?? '-'}`,
    `Activation host from DNS: ${d.discoveredHost ?? '-'}`,
    `SRV lookup domain: ${d.lookupDomain ?? (d.lookupDomains.length ? `${d.lookupDomains.join(', ')} (search domains)` : '-')}`,
    `DNS server for SRV lookups: ${d.dnsServer ? `${d.dnsServer}${d.dnsServerFrom === 'VOLACT_DNS_SERVER' ? ' (from VOLACT_DNS_SERVER)' : ''}` : "the system's resolver"}`,
    `Activation host caching: ${d.hostCaching ? 'enabled' : 'disabled'}`,
    `Activation interval (retry): ${d.retryMinutes} minutes`,
    `Renewal interval: ${d.renewalMinutes} minutes`,
    `Last answer: ${d.lastAnswer ? `${d.lastAnswer.kind}, count ${d.lastAnswer.count} of ${d.lastAnswer.required}, from ${d.lastAnswer.host} at ${d.lastAnswer.at}` : '-'}`,
    `Activation type: ${{ all: 'all (directory, then activation host)', directory: 'directory only', host: 'activation host only' }[d.activationType]}`,
    `Directory: ${d.directory ? `${d.directory.urls.join(', ')} (${d.directory.base}) as ${d.directory.bindDn}` : '-'}`,
    `Activation object name: ${d.directory?.object?.name ?? '-'}`,
    `Activation object DN: ${d.directory?.object?.dn ?? '-'}`,
    ...(d.directory?.object ? [`Directory activation: read from ${d.directory.object.server} at ${d.directory.object.at}, valid until ${d.directory.object.validUntil}`] : []),
    ...(d.directory?.note ? [`Directory activation not used: ${d.directory.note}`] : []),
    `Remaining rearm count: ${d.rearmsLeft}`,
    `Trusted time: ${d.trustedTime}`,
  ];
}

const details = ({ client }: ClientContext) => client.details();

/** -ato, -dli, -dlv and -xpr on a client. */
export const statusOptions = {
  ato: op({
    arity: 0,
    // -ato is a start: a refused machine account ends directory activation now
    run: ({ client }) => client.activate({ startup: true }),
    json: atoJson,
    render: (o) => `${o.directoryNote ? `Directory activation not used: ${o.directoryNote}\n` : ''}${atoText(o)}`,
    exit: (o) => refusal(o)?.exit ?? 0,
  }),
  dli: op({ arity: 0, run: details, render: (d) => licenseLines(d).join('\n') }),
  dlv: op({ arity: 0, run: details, render: (d) => [...licenseLines(d), ...verboseLines(d)].join('\n') }),
  xpr: op({
    arity: 0,
    run: details,
    json: (d) => ({ licenseState: d.licenseState, endsAt: d.endsAt }),
    render: (d) => (d.licenseState === 'licensed' ? (d.endsAt ? `Volume activation will expire ${d.endsAt}` : 'The machine is permanently activated.') : d.endsAt ? `${stateNames[d.licenseState]} ends ${d.endsAt}` : stateNames[d.licenseState]),
  }),
};
