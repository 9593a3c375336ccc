import {
  MAX_REPORT_FILE,
  array,
  int,
  literal,
  obj,
  str,
  usageReportFileSchema,
  usageReportSchema,
  type ErrorCode,
  type Infer,
} from '@volact/protocol';
import type { Authority } from './authority.js';
import type { Route } from './http.js';
import { limitParam, limitQuery } from './token-routes.js';

const REPORT_LIMIT = { default: 1000, min: 1, max: 1000 };

const text = str({ min: 1, max: 128 });
const time = int({ min: 0, max: 8.64e15 });

/** A stored report as the admin API lists it. */
export const usageReportRowSchema = obj({
  id: text,
  hash: text,
  hostId: text,
  groups: array(text, { max: 64 }),
  from: text,
  to: text,
  generatedAt: time,
  receivedAt: time,
  receivedBy: text,
  report: usageReportSchema,
});

/** What checking a report answers besides errors: which row holds it, and whether this call stored it. */
export const receivedUsageReportSchema = obj({
  outcome: literal('stored', 'alreadyStored'),
  report: usageReportRowSchema,
});

/** A report can fail on its file, its chain, its signature, its content or its host. */
const reportErrors: readonly ErrorCode[] = [
  'BAD_REQUEST',
  'BODY_TOO_LARGE',
  'ENVELOPE_MALFORMED',
  'ENVELOPE_ALG',
  'DOCUMENT_TYPE',
  'DOCUMENT_VERSION',
  'DOCUMENT_INVALID',
  'SIGNATURE_INVALID',
  'CHAIN_UNTRUSTED_ROOT',
  'ISSUER_NOT_CERTIFIED',
  'ISSUER_WRONG_PURPOSE',
  'ISSUER_EXPIRED',
  'HOST_CERT_MISMATCH',
  'USAGE_REPORT_INVALID',
  'USAGE_REPORT_HOST_UNKNOWN',
  'TOKEN_MISSING',
  'TOKEN_INVALID',
  'TOKEN_SCOPE',
];

/**
 * Usage reports: the customer sends the file to the publisher, whose operator uploads it. Storing
 * one is a write the publisher makes about a customer's licence, like a confirmation on the phone
 * line, so it takes the `issue` scope (a `read` token never writes); listing takes `read`.
 */
export function usageRoutes(authority: Authority): Record<string, Route> {
  return {
    'POST /v1/admin/usage-reports': {
      summary:
        "check a customer's usage report (signed by a host this authority activated, chained to its root) and store it once",
      scope: 'issue',
      body: usageReportFileSchema,
      limit: MAX_REPORT_FILE,
      response: receivedUsageReportSchema,
      errors: reportErrors,
      handle: ({ actor }, b: Infer<typeof usageReportFileSchema>) => authority.receiveUsageReport(b, actor),
    },
    'GET /v1/admin/usage-reports': {
      summary: 'usage reports received, newest first (?limit=1..1000): counts per edition and month, no machines',
      scope: 'read',
      query: { limit: limitQuery('how many reports, newest first', REPORT_LIMIT) },
      response: array(usageReportRowSchema, { max: 1000 }),
      errors: ['VALUE_OUT_OF_RANGE', 'TOKEN_MISSING', 'TOKEN_INVALID', 'TOKEN_SCOPE'],
      handle: ({ url }) => authority.usageReports(limitParam(url, REPORT_LIMIT)),
    },
  };
}
