import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  VolactError,
  defaults,
  identityHash,
  verifyHostAnswer,
  type ActivateRequest,
  type HostAnswerBundle,
} from '@volact/protocol';
import { discover, dnsServerOf, lookupDomains } from '../discovery.js';
import { licenseOf } from '../stored-license.js';
import type { ClientStore } from '../store.js';
import { readHostAnswer, targetLabel, type HostTarget } from '../transport.js';
import type { ActivationOutcome, ReadyState } from './outcome.js';

/** Errors of this machine, not of a host: they stop discovery instead of moving to the next host. */
const localErrors = new Set<string>([
  'KEY_NOT_INSTALLED',
  'ROOT_NOT_PINNED',
  'STATE_CORRUPT',
  'STATE_UNAVAILABLE',
  'FAKE_CLOCK_REFUSED',
]);

/**
 * `-ato` at an activation host: a pinned host (-skms) wins; otherwise the host that answered last
 * (host caching), then the SRV records of the lookup domains in RFC 2782 order, dropping each
 * host that does not answer (or answers with something that does not verify) for the next.
 */
export async function activateFromHost(store: ClientStore, s: ReadyState): Promise<ActivationOutcome> {
  const env = store.ctx.env;
  if (s.kms.host) return activateAt(store, s, { host: s.kms.host, port: s.kms.port ?? defaults.port });
  store.roots(); // a local problem (no pinned root) is said once, not blamed on every host
  const tried: string[] = [];
  let refused: ActivationOutcome | undefined;
  /**
   * One host. A signed grant or count answer ends the search, and that host is remembered
   * (host caching): it is a host for this edition. Anything else (no answer, an unsigned error
   * such as a rate limit, an answer that does not verify, a signed refusal for this edition)
   * moves on to the next host; a refusal is returned if no host does better.
   */
  const attempt = async (target: HostTarget): Promise<ActivationOutcome | undefined> => {
    const label = targetLabel(target.host, target.port);
    try {
      const outcome = await activateAt(store, s, target);
      if (outcome.kind === 'refused') {
        refused ??= outcome;
        tried.push(`${label} (refused: ${outcome.code})`);
        return undefined;
      }
      s.discovery.lastHost = s.discovery.caching ? target : null;
      store.save();
      return outcome;
    } catch (err) {
      if (!(err instanceof VolactError) || localErrors.has(err.code)) throw err;
      tried.push(`${label} (${err.code}: ${err.message})`);
      return undefined;
    }
  };
  const cached = s.discovery.caching ? s.discovery.lastHost : null;
  if (cached) {
    const outcome = await attempt(cached);
    if (outcome) return outcome;
  }
  const domains = lookupDomains(s, env);
  if (domains.length === 0)
    throw new VolactError('NO_HOST_FOUND', {
      detail: `no host is pinned and there is no lookup domain (no -skms-domain, no search domain in ${env.VOLACT_RESOLV_CONF ?? '/etc/resolv.conf'})${tried.length ? `; tried ${tried.join(', ')}` : ''}`,
    });
  const found = await discover(domains, dnsServerOf(s, env).server ?? undefined);
  tried.unshift(...found.tried);
  for (const target of found.targets) {
    if (cached && target.host === cached.host && target.port === cached.port) continue;
    const outcome = await attempt(target);
    if (outcome) return outcome;
  }
  if (s.discovery.lastHost) {
    s.discovery.lastHost = null;
    store.save();
  }
  if (refused) return refused;
  throw new VolactError('NO_HOST_FOUND', {
    detail: `looked in ${domains.join(', ')}; ${tried.join('; ') || 'no host answered'}`,
  });
}

/** One activation attempt at one host: the request, the verified answer, the stored license. */
async function activateAt(store: ClientStore, s: ReadyState, target: HostTarget): Promise<ActivationOutcome> {
  const roots = store.roots();
  const hostLabel = targetLabel(target.host, target.port);
  const before = licenseOf(store);
  const nonce = randomBytes(18).toString('base64url');
  const now = store.now();
  const req: ActivateRequest = {
    v: 1,
    machineId: s.machine.id,
    fingerprintHash: identityHash(s.machine.madeFor),
    setupKey: s.key.text,
    nonce,
    clientTime: now,
    licenseState: before.state,
    vm: store.ctx.env.VOLACT_VM === '1',
    machineName: hostname().slice(0, 128),
  };
  store.event({
    event: 12288,
    at: now,
    machineId: s.machine.id,
    licenseState: before.state,
    host: hostLabel,
    edition: s.key.edition,
  });
  const finish = (ok: boolean) => {
    s.lastAttempt = { at: now, ok };
    s.localHighWater = Math.max(s.localHighWater, now);
    store.save();
  };
  let reply: { status: number; body: unknown };
  try {
    reply = await store.ctx.post(target, req);
  } catch (err) {
    finish(false);
    throw new VolactError('HOST_UNREACHABLE', {
      target: hostLabel,
      reason: err instanceof Error ? err.message : String(err),
    });
  }
  let bundle: HostAnswerBundle;
  try {
    bundle = readHostAnswer(reply, hostLabel);
  } catch (err) {
    finish(false);
    throw err;
  }
  let verified;
  try {
    verified = verifyHostAnswer(bundle, roots, {
      machineId: s.machine.id,
      nonce,
      fingerprintHash: req.fingerprintHash,
      now,
    });
  } catch (err) {
    finish(false);
    store.event({
      event: 12289,
      at: now,
      machineId: s.machine.id,
      host: hostLabel,
      outcome: 'rejected',
      code: err instanceof VolactError ? err.code : 'INTERNAL',
    });
    throw err;
  }
  const a = verified.kind === 'grant' ? verified.grant : verified.answer;
  s.intervals = { renewalMinutes: a.renewalMinutes, retryMinutes: a.retryMinutes };
  s.hostCertificate = { certificate: bundle.certificate, issuer: bundle.issuer, at: a.issuedAt };
  if (verified.kind !== 'refusal') {
    // Grants and count answers passed the 4-hour skew check (a clock refusal did not), so the
    // host vouched for our clock: a clock once set forward by mistake stops counting here and
    // cannot stick; a clock set back still extends nothing.
    s.highWater = Math.max(s.highWater, a.issuedAt);
    s.localHighWater = Math.max(now, a.issuedAt);
  }
  s.lastAnswer = { kind: verified.kind, count: a.count, required: a.required, at: a.issuedAt, host: hostLabel };
  store.event({
    event: 12289,
    at: now,
    machineId: s.machine.id,
    host: hostLabel,
    outcome: verified.kind,
    count: a.count,
    required: a.required,
    renewalMinutes: a.renewalMinutes,
    retryMinutes: a.retryMinutes,
  });
  switch (verified.kind) {
    case 'grant':
      store.saveLicense({ v: 1, bundle, nonce, host: hostLabel });
      finish(true);
      return { kind: before.state === 'licensed' ? 'renewed' : 'activated', grant: verified.grant, host: hostLabel };
    case 'countInsufficient':
      finish(false);
      return {
        kind: 'countInsufficient',
        count: a.count,
        required: a.required,
        retryMinutes: a.retryMinutes,
        host: hostLabel,
      };
    case 'refusal': {
      finish(false);
      const r = verified.answer;
      const editions = verified.chain.cert.group;
      const detail: Record<string, string | number> =
        r.code === 'CLOCK_SKEW'
          ? { minutes: Math.round(Math.abs(r.issuedAt - now) / 60_000) }
          : { edition: r.edition, groups: editions };
      return { kind: 'refused', code: r.code, count: r.count, host: hostLabel, detail };
    }
  }
}
