import type { LicenseDetails } from '@volact/client';

/** License states as slmgr names them. */
export const stateNames = {
  unlicensed: 'Unlicensed',
  initialGrace: 'Initial grace period',
  licensed: 'Licensed',
  ootGrace: 'Out-of-tolerance grace period',
  notification: 'Notification',
} as const;

/** `-xpr`: when the license state ends. */
export function expiryText(d: LicenseDetails): string {
  if (d.licenseState === 'licensed')
    return d.endsAt
      ? `${d.vm ? 'Automatic VM activation' : 'Volume activation'} will expire ${d.endsAt}`
      : 'The machine is permanently activated.';
  return d.endsAt ? `${stateNames[d.licenseState]} ends ${d.endsAt}` : stateNames[d.licenseState];
}

/** `-dli` (the license), or with `verbose` `-dlv` (also the machine, its hosts, directory and intervals). */
export function licenseText(d: LicenseDetails, verbose: boolean): string {
  const lines = [
    `Description: ${d.channel ?? '(no key)'} channel`,
    `Partial Product Key: ${d.partialKey ?? '-'}`,
    `Edition: ${d.edition ? `${d.edition.name ?? '?'} (${d.edition.number})` : '-'}`,
    `License Status: ${stateNames[d.licenseState]}${d.endsAt ? ` (ends ${d.endsAt})` : ''}`,
    `Reason: ${d.reason}`,
  ];
  if (verbose) lines.push(...verboseLines(d));
  return lines.join('\n');
}

function verboseLines(d: LicenseDetails): string[] {
  return [
    `Machine ID: ${d.machineId}${d.identity ? ` (identity ${d.identity})` : ''}`,
    ...(d.mak
      ? [
          `MAK ${d.mak.id}: activated by ${d.mak.authority} at ${d.mak.at}${d.mak.activationsLeft === null ? '' : `; ${d.mak.activationsLeft} of ${d.mak.activationsLimit} activations left`}`,
        ]
      : []),
    ...(d.channel === 'VIRTUAL_MACHINE_ACTIVATION' ? guestLines(d) : hostLines(d)),
    ...vmLines(d),
    `Remaining rearm count: ${d.rearmsLeft}`,
    `Trusted time: ${d.trustedTime}`,
  ];
}

/** How a setup key finds its activation: hosts, DNS, directory, intervals and the last answer. */
function hostLines(d: LicenseDetails): string[] {
  return [
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
    ...(d.directory?.object
      ? [
          `Directory activation: read from ${d.directory.object.server} at ${d.directory.object.at}, valid until ${d.directory.object.validUntil}`,
        ]
      : []),
    ...(d.directory?.note ? [`Directory activation not used: ${d.directory.note}`] : []),
  ];
}

/** A VM-key guest asks its hypervisor agent only: the intervals of that channel (the block below has the rest). */
function guestLines(d: LicenseDetails): string[] {
  return [`Activation interval (retry): ${d.retryMinutes} minutes`, `Renewal interval: ${d.renewalMinutes} minutes`];
}

/** The "Automatic VM activation" block of -dlv: shown for a VM key, or while a VM grant is held. */
function vmLines(d: LicenseDetails): string[] {
  if (!d.vm && !d.vmAgent) return [];
  const agent = d.vmAgent
    ? `${d.vmAgent.address}${{ VOLACT_VM_AGENT: ' (from VOLACT_VM_AGENT)', setting: ' (volact client vm-agent)', default: '' }[d.vmAgent.from]}`
    : '-';
  return [
    'Automatic VM activation:',
    `    Guest ID: ${d.vm?.guestId ?? '-'}`,
    `    Hypervisor host name: ${d.vm?.hypervisorName ?? '-'}`,
    `    Activation time: ${d.vm?.activatedAt ?? '-'}`,
    `    Hypervisor ID: ${d.vm?.hypervisorId ?? '-'}`,
    `    Valid until: ${d.vm?.validUntil ?? '-'}`,
    `    Agent address: ${d.vm ? d.vm.agent : agent}${d.vm && d.vmAgent && d.vmAgent.address !== d.vm.agent ? ` (now asking ${agent})` : ''}`,
  ];
}
