import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaults, verifyCatalog, verifyHostCert } from '@volact/protocol';
import { dnsServerOf, lookupDomains } from './discovery.js';
import { licenseOf } from './stored-license.js';
import { loadCatalog, type DirectorySettings } from './state.js';
import type { ClientStore } from './store.js';
import { targetLabel } from './transport.js';
import { vmAgentOf } from './vm-identity.js';

type Editions = readonly { number: number; code: string; name: string }[];

/**
 * The code and name of an edition, from documents that verify against the pinned root only:
 * those of the license in use (`verified`), then the host certificate of the last verified
 * answer (a count-insufficient answer carries one too), the catalog of the installed offline
 * bundle, and the catalog fetched by `client trust --authority`. A source that does not verify
 * names nothing; with none, -dlv shows the edition's number alone.
 */
export function editionNames(
  store: ClientStore,
  number: number,
  verified: (Editions | undefined)[],
): { code: string; name: string } | null {
  const s = store.state;
  const sources: (() => Editions | null | undefined)[] = [
    ...verified.map((editions) => () => editions),
    () =>
      s.hostCertificate &&
      verifyHostCert(s.hostCertificate.certificate, s.hostCertificate.issuer, store.roots(), s.hostCertificate.at).cert
        .editions,
    () => {
      const b = store.offlineBundle();
      return verifyCatalog(b.catalog, b.catalogIssuer, store.roots()).editions;
    },
    () => {
      const c = loadCatalog(store.dir);
      return c && verifyCatalog(c.catalog, c.issuer, store.roots()).editions;
    },
  ];
  for (const source of sources) {
    try {
      const found = source()?.find((e) => e.number === number);
      if (found) return { code: found.code, name: found.name };
    } catch {
      // names are for display: a damaged or foreign document names nothing
    }
  }
  return null;
}

const iso = (ms: number) => new Date(ms).toISOString();

/** Everything `-dli`, `-dlv` and `-xpr` show, as a plain value (the CLI renders it). */
export function licenseDetails(store: ClientStore) {
  const s = store.state;
  const env = store.ctx.env;
  // -dli, -dlv and -xpr name a damaged file (STATE_CORRUPT); the agent and -ato go on without it
  if (existsSync(join(store.dir, 'root.pub'))) store.roots();
  const read = store.stored();
  if (read.problem?.kind === 'damaged') throw read.problem.error;
  const view = licenseOf(store);
  const { grant: stored, mak, directory: dirLicense, vm } = read;
  const cert = stored?.cert ?? null; // verified (a JWS certificate or an offline host's confirmation)
  // an online MAK grant is signed with its names; an offline one has them from the bundle, below
  const makEditions =
    mak && 'mak' in mak.license
      ? [{ number: mak.grant.edition, code: mak.grant.editionCode, name: mak.grant.editionName }]
      : undefined;
  // a grant for an edition a newer catalog added to the host's group came with that catalog (verified with it)
  const b = stored?.license.bundle;
  const grantCatalog =
    b?.catalog && b.catalogIssuer ? verifyCatalog(b.catalog, b.catalogIssuer, store.roots()).editions : undefined;
  const edition = s.key
    ? editionNames(store, s.key.edition, [
        cert?.editions,
        grantCatalog,
        dirLicense?.object.editions,
        makEditions,
        vmEditions(vm),
      ])
    : null;
  const dns = dnsServerOf(s, env);
  // only a guest reads VOLACT_VM_AGENT: a stray value elsewhere must not break -dli
  const agent = s.key?.keyClass === 'vm' || vm ? vmAgentOf(s, env) : null;
  return {
    channel: s.key
      ? (
          {
            setup: 'VOLUME_HOSTCLIENT',
            mak: 'VOLUME_MAK',
            vm: 'VIRTUAL_MACHINE_ACTIVATION',
            host: 'VOLUME_HOST',
            datacenter: 'VOLUME_DATACENTER',
          } as const
        )[s.key.keyClass]
      : null,
    partialKey: s.key?.partial ?? null,
    edition: s.key ? { number: s.key.edition, code: edition?.code ?? null, name: edition?.name ?? null } : null,
    licenseState: view.state,
    reason: view.reason,
    endsAt: view.endsAt === null ? null : iso(view.endsAt),
    // a cloned image's new ID is made when volact next writes (ClientStore.peek): none to show until then
    machineId: store.renewalPending ? null : s.machine.id,
    identity: s.machine.identity,
    activatedBy: view.grant
      ? {
          hostName: view.grant.hostName,
          hostId: view.grant.hostId,
          address: stored?.license.host ?? null,
          at: iso(view.grant.issuedAt),
        }
      : null,
    validUntil: view.grant
      ? iso(view.grant.validUntil)
      : dirLicense
        ? iso(dirLicense.license.directory.validUntil)
        : vm
          ? iso(vm.grant.validUntil)
          : null,
    pinnedHost: s.kms.host ? targetLabel(s.kms.host, s.kms.port ?? defaults.port) : null,
    discoveredHost: s.discovery.lastHost ? targetLabel(s.discovery.lastHost.host, s.discovery.lastHost.port) : null,
    lookupDomain: s.discovery.domain,
    lookupDomains: s.kms.host ? [] : lookupDomains(s, env),
    dnsServer: dns.server,
    dnsServerFrom: dns.from,
    hostCaching: s.discovery.caching,
    pinnedPort: s.kms.port,
    renewalMinutes: s.intervals.renewalMinutes,
    retryMinutes: s.intervals.retryMinutes,
    lastAnswer: s.lastAnswer ? { ...s.lastAnswer, at: iso(s.lastAnswer.at) } : null,
    mak: mak ? makDetails(mak) : null,
    authorityUrl: s.authorityUrl,
    activationType: s.actType,
    directory: s.directory ? directoryDetails(s.directory, dirLicense, s.directoryNote) : null,
    vm: vm ? vmDetails(vm) : null,
    vmAgent: agent ? { address: agent.label, from: agent.from } : null,
    rearmsLeft: defaults.rearmLimit - s.rearmsUsed,
    trustedTime: iso(view.trustedNow),
  };
}

type Read = ReturnType<ClientStore['stored']>;

/** A MAK activation as -dlv shows it: online with its counts, or offline (confirmation ID). */
function makDetails(mak: NonNullable<Read['mak']>) {
  const g = mak.grant;
  const online = 'mak' in mak.license ? mak.license : null;
  return {
    id: g.makId,
    edition: g.editionName,
    activationsUsed: online ? g.activationsUsed : null,
    activationsLimit: online ? g.activationsLimit : null,
    activationsLeft: online ? g.activationsLimit - g.activationsUsed : null,
    authority: online ? online.authority : 'offline (confirmation ID)',
    at: iso(g.issuedAt),
  };
}

/** The directory this machine is joined to, and the activation object read from it. */
function directoryDetails(d: DirectorySettings, dirLicense: Read['directory'], note: string | null) {
  const l = dirLicense?.license.directory;
  return {
    urls: d.urls,
    base: d.base,
    bindDn: d.bindDn,
    tls: d.allowPlainBind
      ? 'StartTLS or LDAPS when offered; plain bind allowed'
      : 'LDAPS or StartTLS; plain bind only on loopback',
    object:
      dirLicense && l
        ? {
            name: l.name,
            dn: l.dn,
            directoryId: l.directoryId,
            server: l.url,
            group: dirLicense.object.group,
            at: iso(l.activatedAt),
            validUntil: iso(l.validUntil),
          }
        : null,
    note,
  };
}

/** The automatic VM activation (-dlv's block): this guest's VM UUID, the hypervisor that granted it, when and until when. */
function vmDetails(vm: NonNullable<Read['vm']>) {
  const g = vm.grant;
  return {
    guestId: g.vmUuid,
    hypervisorName: g.hypervisorName,
    hypervisorId: g.hypervisorId,
    activatedAt: iso(g.issuedAt),
    validUntil: iso(g.validUntil),
    agent: vm.license.agent,
  };
}

/** The edition the agent's grant names (signed by the agent under its certificate). */
function vmEditions(vm: Read['vm']): Editions | undefined {
  return vm ? [{ number: vm.grant.edition, code: vm.grant.editionCode, name: vm.grant.editionName }] : undefined;
}

/** The view-model of `-dli`, `-dlv` and `-xpr`. */
export type LicenseDetails = ReturnType<typeof licenseDetails>;
