import { defaults, type Grant, type LicenseState } from '@volact/protocol';

export type LicenseView = {
  state: LicenseState;
  /** When the current state ends (grace end, grant expiry); null when it does not. */
  endsAt: number | null;
  /** The time used: the later of the clock and the highest host-signed time seen. */
  trustedNow: number;
  grant: Grant | null;
  reason: string;
};

export type LicenseInputs = {
  keyInstalled: boolean;
  graceStart: number;
  /** Highest host-signed time seen. */
  highWater: number;
  /** Highest local time seen since a host last vouched for the clock. */
  localHighWater?: number;
  /** The stored grant, already verified for this machine; null when there is none. */
  grant: Grant | null;
  /** A verified MAK activation: permanent while the hardware stays within tolerance of it. */
  mak?: { sameHardware: boolean; outOfToleranceSince: number | null; offline?: boolean } | null;
  /** A verified directory activation: valid until `validUntil` (180 days after it was last read). */
  directory?: { name: string; validUntil: number } | null;
  /** A verified automatic VM activation: valid until `validUntil` (7 days after the agent's last grant). */
  vm?: { hypervisorName: string; validUntil: number } | null;
  /** Why a stored license does not count (damaged, or another machine's), when there is one. */
  problem?: string | null;
};

/**
 * The license state, from signed local data and a clock that cannot run back:
 * licensed while a grant is valid; then 30 days of out-of-tolerance grace; then notification.
 * Without a grant: 30 days of initial grace from installation (or the last rearm), then notification.
 */
export function licenseState(input: LicenseInputs, clockNow: number): LicenseView {
  const now = Math.max(clockNow, input.highWater, input.localHighWater ?? 0);
  const base = { trustedNow: now, grant: input.grant };
  if (!input.keyInstalled) return { ...base, state: 'unlicensed', endsAt: null, reason: 'no product key is installed' };
  if (input.mak) {
    if (input.mak.sameHardware)
      return { ...base, state: 'licensed', endsAt: null, reason: 'permanently activated with a MAK' };
    const ends = (input.mak.outOfToleranceSince ?? now) + defaults.ootGraceMs;
    if (now < ends)
      return {
        ...base,
        state: 'ootGrace',
        endsAt: ends,
        reason: input.mak.offline
          ? 'the hardware changed beyond tolerance; activate again offline (volact slmgr -dti, then -atp with the new confirmation ID)'
          : 'the hardware changed beyond tolerance; activate again (volact slmgr -ato)',
      };
    return {
      ...base,
      state: 'notification',
      endsAt: null,
      reason: 'the hardware changed beyond tolerance and the grace period expired',
    };
  }
  const active = activeLicense(input);
  if (active) {
    if (now < active.validUntil)
      return { ...base, state: 'licensed', endsAt: active.validUntil, reason: `activated by ${active.by}` };
    const ootEnds = active.validUntil + defaults.ootGraceMs;
    if (now < ootEnds)
      return { ...base, state: 'ootGrace', endsAt: ootEnds, reason: `the ${active.what} expired; ${active.renew}` };
    return { ...base, state: 'notification', endsAt: null, reason: 'the activation and its grace period expired' };
  }
  const graceEnds = input.graceStart + defaults.initialGraceMs;
  if (now < graceEnds)
    return { ...base, state: 'initialGrace', endsAt: graceEnds, reason: input.problem ?? 'not activated yet' };
  return {
    ...base,
    state: 'notification',
    endsAt: null,
    reason: input.problem
      ? `the initial grace period expired: ${input.problem}`
      : 'the initial grace period expired without activation',
  };
}

/** The activation that expires (host grant, directory activation, VM grant): its end and how to renew it. */
function activeLicense(input: LicenseInputs): { validUntil: number; by: string; what: string; renew: string } | null {
  const { grant: g, directory: d, vm } = input;
  if (g)
    return {
      validUntil: g.validUntil,
      by: `host ${g.hostName}`,
      what: 'volume activation',
      renew: 'renew with an activation host',
    };
  if (d)
    return {
      validUntil: d.validUntil,
      by: `directory activation object ${d.name}`,
      what: 'volume activation',
      renew: 'renew from the directory (on the office network) or an activation host',
    };
  if (vm)
    return {
      validUntil: vm.validUntil,
      by: `hypervisor ${vm.hypervisorName}`,
      what: 'automatic VM activation',
      renew: 'renew with the hypervisor agent: the guest must run on an activated host',
    };
  return null;
}

/** When the agent should next ask a host: renewal interval after success, retry interval after failure. */
export function nextAttemptAt(
  view: LicenseView,
  lastAttempt: { at: number; ok: boolean } | null,
  intervals: { renewalMinutes: number; retryMinutes: number },
): number {
  if (!lastAttempt) return view.trustedNow;
  const minutes = lastAttempt.ok && view.state === 'licensed' ? intervals.renewalMinutes : intervals.retryMinutes;
  return lastAttempt.at + minutes * 60_000;
}
