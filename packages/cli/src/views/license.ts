import type { LicenseDetails } from '@volact/client';
import { t } from '../lang.js';

/** License states as slmgr names them, in this run's language. */
export const stateName = (state: LicenseDetails['licenseState']): string => t(`state.${state}`);

/** `-xpr`: when the license state ends. */
export function expiryText(d: LicenseDetails): string {
  if (d.licenseState === 'licensed')
    return d.endsAt ? t(d.vm ? 'xpr.vm' : 'xpr.volume', { endsAt: d.endsAt }) : t('xpr.permanent');
  return d.endsAt
    ? t('xpr.stateEnds', { state: stateName(d.licenseState), endsAt: d.endsAt })
    : stateName(d.licenseState);
}

/** `-dli` (the license), or with `verbose` `-dlv` (also the machine, its hosts, directory and intervals). */
export function licenseText(d: LicenseDetails, verbose: boolean): string {
  const lines = [
    t('dli.description', { channel: d.channel ?? t('dli.noKey') }),
    t('dli.partialKey', { partialKey: d.partialKey ?? '-' }),
    t('dli.edition', { edition: d.edition ? `${d.edition.name ?? '?'} (${d.edition.number})` : '-' }),
    t('dli.status', {
      state: stateName(d.licenseState),
      ends: d.endsAt ? t('dli.statusEnds', { endsAt: d.endsAt }) : '',
    }),
    t('dli.reason', { reason: d.reason }),
  ];
  if (verbose) lines.push(...verboseLines(d));
  return lines.join('\n');
}

function verboseLines(d: LicenseDetails): string[] {
  const m = d.mak;
  return [
    t('dlv.machineId', {
      machineId: String(d.machineId),
      identity: d.identity ? t('dlv.identity', { identity: d.identity }) : '',
    }),
    ...(m
      ? [
          t('dlv.mak', {
            id: m.id,
            authority: m.authority,
            at: m.at,
            left:
              m.activationsLeft === null
                ? ''
                : t('dlv.makLeft', { left: m.activationsLeft, limit: m.activationsLimit ?? '?' }),
          }),
        ]
      : []),
    ...(d.channel === 'VIRTUAL_MACHINE_ACTIVATION' ? guestLines(d) : hostLines(d)),
    ...vmLines(d),
    t('dlv.rearms', { count: d.rearmsLeft }),
    t('dlv.trustedTime', { time: d.trustedTime }),
  ];
}

/** How a setup key finds its activation: hosts, DNS, directory, intervals and the last answer. */
function hostLines(d: LicenseDetails): string[] {
  const by = d.activatedBy;
  const answer = d.lastAnswer;
  return [
    t('dlv.activatedBy', { host: by ? t('dlv.activatedByValue', { ...by, address: String(by.address) }) : '-' }),
    t('dlv.validUntil', { time: d.validUntil ?? '-' }),
    t('dlv.pinnedHost', { host: d.pinnedHost ?? '-' }),
    t('dlv.dnsHost', { host: d.discoveredHost ?? '-' }),
    t('dlv.lookupDomain', {
      domain:
        d.lookupDomain ??
        (d.lookupDomains.length ? t('dlv.searchDomains', { domains: d.lookupDomains.join(', ') }) : '-'),
    }),
    t('dlv.dnsServer', {
      server: d.dnsServer
        ? d.dnsServerFrom === 'VOLACT_DNS_SERVER'
          ? t('dlv.dnsServerFromEnv', { server: d.dnsServer })
          : d.dnsServer
        : t('dlv.systemResolver'),
    }),
    t('dlv.hostCaching', { state: t(d.hostCaching ? 'common.enabled' : 'common.disabled') }),
    ...guestLines(d),
    t('dlv.lastAnswer', { answer: answer ? t('dlv.lastAnswerValue', answer) : '-' }),
    t('dlv.activationType', { type: t(`dlv.type.${d.activationType}`) }),
    ...directoryLines(d),
  ];
}

/** The directory a member machine reads, its activation object, and why it was not used. */
function directoryLines(d: LicenseDetails): string[] {
  const dir = d.directory;
  const object = dir?.object;
  return [
    t('dlv.directory', {
      directory: dir ? t('dlv.directoryValue', { urls: dir.urls.join(', '), base: dir.base, bindDn: dir.bindDn }) : '-',
    }),
    t('dlv.objectName', { name: object?.name ?? '-' }),
    t('dlv.objectDn', { dn: object?.dn ?? '-' }),
    ...(object ? [t('dlv.directoryActivation', object)] : []),
    ...(dir?.note ? [t('dlv.directoryNotUsed', { note: dir.note })] : []),
  ];
}

/** A VM-key guest asks its hypervisor agent only: the intervals of that channel (the block below has the rest). */
function guestLines(d: LicenseDetails): string[] {
  return [t('dlv.retry', { minutes: d.retryMinutes }), t('dlv.renewal', { minutes: d.renewalMinutes })];
}

/** The "Automatic VM activation" block of -dlv: shown for a VM key, or while a VM grant is held. */
function vmLines(d: LicenseDetails): string[] {
  if (!d.vm && !d.vmAgent) return [];
  const from = { VOLACT_VM_AGENT: t('dlv.vm.fromEnv'), setting: t('dlv.vm.fromSetting'), default: '' };
  const agent = d.vmAgent ? `${d.vmAgent.address}${from[d.vmAgent.from]}` : '-';
  const now = d.vm && d.vmAgent && d.vmAgent.address !== d.vm.agent ? t('dlv.vm.nowAsking', { agent }) : '';
  return [
    t('dlv.vm'),
    ...[
      t('dlv.vm.guestId', { value: d.vm?.guestId ?? '-' }),
      t('dlv.vm.hypervisorName', { value: d.vm?.hypervisorName ?? '-' }),
      t('dlv.vm.activatedAt', { value: d.vm?.activatedAt ?? '-' }),
      t('dlv.vm.hypervisorId', { value: d.vm?.hypervisorId ?? '-' }),
      t('dlv.vm.validUntil', { value: d.vm?.validUntil ?? '-' }),
      t('dlv.vm.agent', { address: d.vm ? d.vm.agent : agent, now }),
    ].map((line) => `    ${line}`),
  ];
}
