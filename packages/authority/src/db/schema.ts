import type { Generated } from 'kysely';

/** The authority's tables, for Kysely's types. Times are epoch milliseconds (bigint-safe numbers). */
export interface AuthorityTables {
  catalogs: { serial: number; body: string; jws: string };
  host_keys: {
    id: string;
    key_hash: string;
    partial: string;
    group_code: string;
    key_class: Generated<string>;
    max_hosts: number;
    max_activations: number;
    hosts_used: Generated<number>;
    used_activations: Generated<number>;
    created_at: number;
  };
  host_activations: {
    host_key_id: string;
    host_public_key: string;
    host_id: string;
    host_name: string;
    first_at: number;
    last_at: number;
    activations: number;
  };
  host_activation_requests: {
    request_id: string;
    host_key_id: string;
    host_public_key: string;
    answer: string;
    created_at: number;
  };
  maks: {
    id: string;
    key_hash: string;
    partial: string;
    edition: number;
    max_activations: number;
    used_activations: Generated<number>;
    created_at: number;
  };
  increase_requests: {
    id: string;
    key_kind: string;
    key_id: string;
    what: string;
    amount: number;
    reason: string;
    state: string;
    granted: number | null;
    note: string | null;
    created_at: number;
    decided_at: number | null;
  };
  request_steps: { request_id: string; step: string; at: number; detail: string };
  rate_limits: { bucket: string; window_start: number; hits: number };
  offline_confirmations: { iid_hash: string; key_id: string; created_at: number };
  api_tokens: {
    id: string;
    name: string;
    scopes: string;
    token_hash: string;
    created_at: number;
    revoked_at: number | null;
  };
  audit_log: { seq: Generated<number>; at: number; actor: string; action: string; target: string; detail: string };
  usage_reports: {
    id: string;
    report_hash: string;
    host_id: string;
    groups: string;
    period_from: string;
    period_to: string;
    generated_at: number;
    received_at: number;
    received_by: string;
    report: string;
    file: string;
  };
  mak_activations: {
    mak_id: string;
    machine_id: string;
    parts: string;
    first_at: number;
    last_at: number;
    activations: number;
  };
}
