/**
 * Every endpoint the fuzzer attacks: the host's client port, the host's admin socket and the
 * authority's public and admin API (packages/host/src/http.ts, packages/authority/src/http.ts).
 * Each has a generator of valid bodies, the query parameters it reads, and the tables an accepted
 * answer may change (at most `n` rows each, per accepted answer): a row change that no accepted
 * answer explains is a failure.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import type { Fixtures } from './fuzz-world.js';
import { B64URL, type Rng } from './fuzz-random.js';

export type Target = 'host' | 'admin' | 'authority';

export type Endpoint = {
  target: Target;
  method: 'GET' | 'POST';
  path: string;
  /** An authority admin route: the token scope it needs. */
  scope?: 'read' | 'issue' | 'approve' | 'admin';
  seed?: (f: Fixtures, rng: Rng) => Record<string, unknown>;
  query?: readonly string[];
  /** Tables ("host.events", "authority.audit_log") an accepted answer may change, with rows per answer. */
  writes?: Record<string, number>;
  /** The bulk endpoint: the allowance above is per item of the answer's `results`. */
  perResult?: boolean;
  /** How often it is picked (default 3 with a body, 1 without): the client-facing endpoints most. */
  weight?: number;
  /** False for a POST whose handler ignores the body (it may be accepted whatever is sent). */
  readsBody?: boolean;
};

const id = (rng: Rng, n: number) => rng.text(n, B64URL);
const uuid = (rng: Rng) => {
  const h = rng.text(32, '0123456789abcdef');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
};
const parts = (rng: Rng) => ({
  osId: id(rng, 43),
  cpu: id(rng, 43),
  board: id(rng, 43),
  disks: [id(rng, 43)],
  nics: [id(rng, 43)],
});
const HOUR = 3_600_000;

/** A real Ed25519 public key (raw, base64url), made from the case's random bytes: the authority checks it is one. */
function edPublicKey(rng: Rng): string {
  const pkcs8 = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), rng.bytes(32)]);
  return createPublicKey(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' }).x!;
}

/** The body a client sends to POST /v1/activate; mostly a new machine, sometimes a counted one. */
function activation(f: Fixtures, rng: Rng): Record<string, unknown> {
  const body: Record<string, unknown> = {
    v: 1,
    machineId: rng.chance(0.2) ? rng.pick(f.machineIds) : uuid(rng),
    fingerprintHash: id(rng, 43),
    setupKey: rng.chance(0.85) ? f.setupKey : f.uncoveredSetupKey,
    nonce: id(rng, 22),
    clientTime: Date.now() + (rng.chance(0.05) ? rng.pick([-1, 1]) * 5 * HOUR : 0),
    licenseState: rng.pick(['unlicensed', 'initialGrace', 'licensed', 'ootGrace', 'notification']),
    vm: rng.chance(0.3),
  };
  if (rng.chance(0.3)) body.machineName = `pc-${id(rng, 8)}`;
  return body;
}

const slot = { 'authority.host_activations': 1, 'authority.host_activation_requests': 1, 'authority.audit_log': 1 };
const audited = (table: string) => ({ [`authority.${table}`]: 1, 'authority.audit_log': 1 });

export const ENDPOINTS: readonly Endpoint[] = [
  // the host's client port
  { target: 'host', method: 'GET', path: '/v1/health', weight: 2 },
  {
    target: 'host',
    method: 'POST',
    path: '/v1/activate',
    weight: 24,
    seed: activation,
    writes: { 'host.machines': 1, 'host.events': 1, 'host.counters': 4, 'host.count_buckets': 1 },
  },
  // the host's admin socket
  { target: 'admin', method: 'GET', path: '/status' },
  { target: 'admin', method: 'GET', path: '/rows' },
  // each answer derives the installation ID's check with scrypt (about 50 ms of the host's one thread)
  { target: 'admin', method: 'GET', path: '/offline/installation-ids', weight: 0.25 },
  { target: 'admin', method: 'GET', path: '/dns', query: ['limit'] },
  { target: 'admin', method: 'GET', path: '/events', query: ['since', 'machine', 'outcome', 'limit'] },
  { target: 'admin', method: 'GET', path: '/machines', query: ['fingerprints', 'limit'] },
  // a setup key or a MAK is the wrong class: installing the host's own key again would undo its activation
  {
    target: 'admin',
    method: 'POST',
    path: '/keys',
    seed: (f, rng) => ({ key: rng.pick([f.setupKey, f.makKey, f.uncoveredSetupKey]) }),
    writes: { 'host.host_keys': 2 },
  },
  {
    target: 'admin',
    method: 'POST',
    path: '/keys/remove',
    seed: (_f, rng) => ({ which: `K9-${rng.text(5, '23456789ACDEFGHJKLMNPQRTUVWXY')}` }),
    writes: { 'host.host_keys': 1 },
  },
  {
    target: 'admin',
    method: 'POST',
    path: '/activate',
    seed: () => ({ force: false }),
    writes: { 'host.catalog': 1, 'host.host_keys': 0, ...slot },
  },
  {
    target: 'admin',
    method: 'POST',
    path: '/dns',
    seed: () => ({ enabled: false }),
    writes: { 'host.settings': 1, 'host.settings_log': 1, 'host.dns_events': 2, 'host.dns_published': 1 },
  },
  {
    target: 'admin',
    method: 'POST',
    path: '/dns/unpublish',
    readsBody: false,
    writes: { 'host.settings': 1, 'host.settings_log': 1, 'host.dns_events': 2, 'host.dns_published': 2 },
  },
  {
    target: 'admin',
    method: 'POST',
    path: '/offline/confirm',
    seed: (f) => ({ confirmationId: f.confirmationId }),
    writes: { 'host.catalog': 1 },
  },
  // never a port: a valid one would move the client port away from the fuzzer
  {
    target: 'admin',
    method: 'POST',
    path: '/settings',
    seed: (_f, rng) => (rng.chance(0.5) ? { retryMinutes: 120 } : { renewalMinutes: 10_080, retryMinutes: 60 }),
    // each setting that changes is also a record of the host's chained log
    writes: { 'host.settings': 2, 'host.settings_log': 3 },
  },
  // the authority's public API
  { target: 'authority', method: 'GET', path: '/v1/health' },
  { target: 'authority', method: 'GET', path: '/v1/root' },
  { target: 'authority', method: 'GET', path: '/v1/catalog' },
  { target: 'authority', method: 'GET', path: '/v1/offline-bundle' },
  { target: 'authority', method: 'GET', path: '/v1/openapi.json' },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/host-activations',
    weight: 5,
    writes: slot,
    seed: (f, rng) => ({
      v: 1,
      hostKey: f.hostKey,
      hostPublicKey: edPublicKey(rng),
      hostName: `h-${id(rng, 6)}`,
      requestId: id(rng, 22),
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/hypervisor-activations',
    weight: 5,
    writes: slot,
    seed: (f, rng) => ({
      v: 1,
      hostKey: f.datacenterKey,
      hostPublicKey: edPublicKey(rng),
      hostName: `hv-${id(rng, 6)}`,
      requestId: id(rng, 22),
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/directory-activations',
    weight: 5,
    writes: slot,
    seed: (f, rng) => ({
      v: 1,
      hostKey: f.hostKey,
      directoryId: uuid(rng),
      directoryKind: rng.pick(['openldap', 'active-directory']),
      suffix: 'dc=corp,dc=test',
      name: `fuzz ${id(rng, 4)}`.replace(/[^A-Za-z0-9 ]/g, 'x'),
      requestId: id(rng, 22),
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/mak-activations',
    weight: 5,
    writes: { 'authority.mak_activations': 1, 'authority.offline_confirmations': 1, 'authority.audit_log': 1 },
    seed: (f, rng) => ({ v: 1, makKey: f.makKey, machineId: uuid(rng), parts: parts(rng), nonce: id(rng, 22) }),
  },
  {
    // a valid installation ID costs the authority a deliberately slow check (scrypt): mostly the host's, already confirmed
    target: 'authority',
    method: 'POST',
    path: '/v1/offline-confirmations',
    weight: 5,
    writes: { ...slot, 'authority.mak_activations': 1, 'authority.offline_confirmations': 1 },
    seed: (f, rng) => ({ v: 1, installationId: rng.pick([f.hostIid, f.makIid]) }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/increase-requests',
    weight: 5,
    writes: { 'authority.increase_requests': 1, 'authority.request_steps': 1 },
    seed: (f, rng) => ({
      v: 1,
      key: rng.pick([f.hostKey, f.makKey]),
      what: 'activations',
      amount: 1 + rng.int(100),
      reason: 'fuzz',
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/increase-requests/status',
    seed: (f) => ({ v: 1, key: f.hostKey, id: f.increaseId }),
  },
  // the authority's admin API
  { target: 'authority', method: 'GET', path: '/v1/admin/host-keys', scope: 'read' },
  { target: 'authority', method: 'GET', path: '/v1/admin/maks', scope: 'read' },
  { target: 'authority', method: 'GET', path: '/v1/admin/requests', scope: 'read', query: ['state'] },
  { target: 'authority', method: 'GET', path: '/v1/admin/tokens', scope: 'admin' },
  { target: 'authority', method: 'GET', path: '/v1/admin/audit', scope: 'admin', query: ['limit'] },
  { target: 'authority', method: 'GET', path: '/v1/admin/usage-reports', scope: 'read', query: ['limit'] },
  { target: 'authority', method: 'GET', path: '/v1/admin/catalog', scope: 'read' },
  { target: 'authority', method: 'GET', path: '/v1/admin/hosts', scope: 'read', query: ['key'] },
  // the web console's session (sessions live in memory: nothing in the database changes)
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/console/session',
    seed: (_f, rng) => ({ token: `vat_T${rng.text(10, '0123456789abcdef')}_${id(rng, 32)}` }),
  },
  { target: 'authority', method: 'GET', path: '/v1/console/session' },
  { target: 'authority', method: 'POST', path: '/v1/console/session/end', readsBody: false },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/usage-reports',
    scope: 'issue',
    writes: audited('usage_reports'),
    // the file's shape with signatures that are not; a mutation never makes one a host signed
    seed: () => ({
      v: 1,
      kind: 'volact.usage-report-file',
      report: 'eyJ0eXAiOiJ2b2xhY3QudXNhZ2UtcmVwb3J0In0.e30.c2ln',
      certificates: [{ certificate: 'a.b.c', issuer: 'd.e.f' }],
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/host-keys',
    scope: 'issue',
    writes: audited('host_keys'),
    seed: (_f, rng) => ({
      v: 1,
      group: rng.pick(['desk-2026', 'server-2026']),
      ...(rng.chance(0.5) ? { hosts: 1 + rng.int(10), activations: 1 + rng.int(100) } : {}),
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/datacenter-keys',
    scope: 'issue',
    writes: audited('host_keys'),
    seed: (_f, rng) => ({
      v: 1,
      group: rng.pick(['desk-2026', 'server-2026']),
      ...(rng.chance(0.5) ? { hosts: 1 + rng.int(10), activations: 1 + rng.int(100) } : {}),
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/maks',
    scope: 'issue',
    writes: audited('maks'),
    seed: (_f, rng) => ({ v: 1, edition: rng.pick(['desk-pro', 'server-standard']), activations: 1 + rng.int(1000) }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/requests/decide',
    scope: 'approve',
    writes: audited('request_steps'),
    seed: (f, rng) => ({
      v: 1,
      id: f.increaseId,
      decision: rng.pick(['approve', 'reject']),
      ...(rng.chance(0.5) ? { amount: 1 + rng.int(10), note: 'fuzz' } : {}),
    }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/release-host',
    scope: 'approve',
    writes: audited('host_activations'),
    seed: (f, rng) => ({ v: 1, hostKeyId: f.hostKeyId, hostId: `H${rng.text(16, '0123456789abcdef')}` }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/offline-confirmations',
    scope: 'issue',
    perResult: true,
    writes: { ...slot, 'authority.mak_activations': 1, 'authority.offline_confirmations': 1 },
    seed: (f, rng) => ({ v: 1, installationIds: rng.chance(0.5) ? [f.hostIid] : [f.makIid, 'not-an-installation-id'] }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/tokens',
    scope: 'admin',
    writes: audited('api_tokens'),
    seed: (_f, rng) => ({ v: 1, name: `fuzz-${id(rng, 6)}`, scopes: [rng.pick(['read', 'issue', 'approve'])] }),
  },
  {
    target: 'authority',
    method: 'POST',
    path: '/v1/admin/tokens/revoke',
    scope: 'admin',
    writes: { 'authority.audit_log': 1 },
    seed: (f) => ({ v: 1, id: f.victimTokenId }),
  },
];

export const endpointName = (e: Endpoint) => `${e.target} ${e.method} ${e.path}`;
