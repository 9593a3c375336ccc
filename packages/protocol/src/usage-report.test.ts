import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { rootFromKey, type Root } from './chain.js';
import { DAY } from './clock.js';
import { docTypes, type HostCert, type IssuerCert } from './documents.js';
import { VolactError, type ErrorCode } from './errors.js';
import { generateKeyPair, rawPublicKey, signDocument, type KeyPair } from './jws.js';
import {
  monthsOf,
  parsePeriod,
  parseUsageReportFile,
  signUsageReport,
  usageReportHash,
  usageTotals,
  verifyUsageReport,
  type UsageReport,
  type UsageReportFile,
} from './usage-report.js';

const now = Date.UTC(2026, 11, 3, 9);
const root = generateKeyPair('root');
const roots: Root[] = [rootFromKey(root.publicKey)];

/** A root, its host-cert issuer, and a host certificate for `host` (the chain a real authority makes). */
function chainFor(host: KeyPair, signingRoot: KeyPair = root, over: Partial<HostCert> = {}) {
  const issuing = generateKeyPair('iss-host-cert');
  const issuerCert: IssuerCert = {
    kid: issuing.kid,
    purpose: 'host-cert',
    publicKey: rawPublicKey(issuing.publicKey),
    root: signingRoot.kid,
    notBefore: now - 100 * DAY,
    notAfter: now + 365 * DAY,
  };
  const cert: HostCert = {
    hostId: 'H7f3a00000001',
    hostKeyId: 'HK-1',
    hostPublicKey: rawPublicKey(host.publicKey),
    hostName: 'kms01',
    group: 'server-2026',
    editions: [{ number: 201, code: 'server-standard', name: 'Standard', kind: 'server' }],
    issuedAt: now - 50 * DAY,
    notAfter: null,
    activation: 1,
    ...over,
  };
  return {
    certificate: signDocument(issuing, docTypes.hostCert, 1, cert),
    issuer: signDocument(signingRoot, docTypes.issuer, 1, issuerCert),
  };
}

function report(over: Partial<UsageReport> = {}): UsageReport {
  return {
    hostId: 'H7f3a00000001',
    groups: ['server-2026'],
    from: '2026-11-01',
    to: '2026-12-31',
    coveredFrom: Date.UTC(2026, 10, 1),
    coveredTo: now,
    months: [
      {
        month: '2026-11',
        editions: [
          {
            edition: 201,
            code: 'server-standard',
            name: 'Standard',
            kind: 'server',
            granted: 3,
            waiting: 3,
            refused: 1,
            requests: 7,
          },
        ],
        peak: { count: 6, at: now - 13 * DAY },
      },
      {
        month: '2026-12',
        editions: [
          {
            edition: 201,
            code: 'server-standard',
            name: 'Standard',
            kind: 'server',
            granted: 2,
            waiting: 0,
            refused: 0,
            requests: 2,
          },
          { edition: 0, granted: 0, waiting: 0, refused: 4, requests: 4 },
        ],
        peak: { count: 7, at: now - DAY },
      },
    ],
    peak: { count: 7, at: now - DAY },
    generatedAt: now,
    ...over,
  };
}

const host = generateKeyPair('host');
const signed = (r: UsageReport = report(), key: KeyPair = host, chain = chainFor(host)) =>
  signUsageReport(key, r, [chain]);

function refuses(file: unknown, code: ErrorCode, detail?: RegExp) {
  assert.throws(
    () => verifyUsageReport(file, roots, now),
    (err: unknown) => {
      assert.ok(err instanceof VolactError, String(err));
      assert.equal(err.code, code, err.message);
      if (detail) assert.match(err.message, detail);
      return true;
    },
  );
}

describe('usage report period', () => {
  test('takes whole UTC months and days, the last one included', () => {
    const p = parsePeriod('2026-11', '2026-12');
    assert.deepEqual([p.from, p.to, p.months], ['2026-11-01', '2026-12-31', ['2026-11', '2026-12']]);
    assert.equal(p.end, Date.UTC(2027, 0, 1));
    const d = parsePeriod('2026-02-10', '2026-02-28');
    assert.deepEqual([d.from, d.to, d.months, d.end], ['2026-02-10', '2026-02-28', ['2026-02'], Date.UTC(2026, 2, 1)]);
    assert.deepEqual(monthsOf(Date.UTC(2026, 11, 31), Date.UTC(2027, 1, 1)), ['2026-12', '2027-01']);
  });

  test('refuses dates that are not dates, a reversed period and more than 120 months', () => {
    for (const [from, to] of [
      ['2026-13', '2026-12'],
      ['2026-02-30', '2026-03'],
      ['26-01', '2026-03'],
      ['2026-01-01T00:00', '2026-03'],
      ['2026-12', '2026-11'],
      ['2010-01', '2020-01'],
    ])
      assert.throws(() => parsePeriod(from!, to!), { code: 'USAGE_PERIOD_INVALID' }, `${from}..${to}`);
  });
});

describe('usage report verification', () => {
  test('verifies a report signed by a host whose certificate chains to the root', () => {
    const file = signed();
    const v = verifyUsageReport(JSON.parse(JSON.stringify(file)), roots, now);
    assert.deepEqual(v.report, report());
    assert.equal(v.chains[0]!.cert.hostId, 'H7f3a00000001');
    assert.equal(v.hash, usageReportHash(file), 'the hash names the signed report');
  });

  test('refuses a report whose counts were changed after signing', () => {
    const file = signed();
    const [h, p, s] = file.report.split('.');
    const changed = JSON.parse(Buffer.from(p!, 'base64url').toString());
    changed.months[0].editions[0].granted = 1;
    refuses(
      { ...file, report: `${h}.${Buffer.from(JSON.stringify(changed)).toString('base64url')}.${s}` },
      'SIGNATURE_INVALID',
    );
  });

  test("refuses a host certified by another publisher's root", () => {
    const otherRoot = generateKeyPair('root');
    refuses(signed(report(), host, chainFor(host, otherRoot)), 'CHAIN_UNTRUSTED_ROOT');
  });

  test('refuses a report signed by a key other than the certified one', () => {
    refuses(signed(report(), generateKeyPair('host')), 'ISSUER_NOT_CERTIFIED');
  });

  test('refuses a report naming another host than its certificate', () => {
    refuses(signed(report({ hostId: 'H000000000002' })), 'HOST_CERT_MISMATCH');
  });

  test('refuses certificates of two different host keys in one file', () => {
    const file: UsageReportFile = { ...signed(), certificates: [chainFor(host), chainFor(generateKeyPair('host'))] };
    refuses(file, 'HOST_CERT_MISMATCH');
  });

  test('refuses content that does not add up', () => {
    refuses(signed(report({ months: report().months.slice(0, 1) })), 'USAGE_REPORT_INVALID', /months/);
    refuses(signed(report({ coveredFrom: Date.UTC(2026, 9, 1) })), 'USAGE_REPORT_INVALID', /covered/);
    refuses(signed(report({ coveredTo: now + DAY, generatedAt: now })), 'USAGE_REPORT_INVALID', /after it was made/);
    refuses(signed(report({ peak: { count: 99, at: now } })), 'USAGE_REPORT_INVALID', /peak/);
    refuses(signed(report({ from: '2026-12-01', to: '2026-11-30' })), 'USAGE_REPORT_INVALID', /period/);
    const twice = report();
    twice.months[0]!.editions.push({ ...twice.months[0]!.editions[0]! });
    refuses(signed(twice), 'USAGE_REPORT_INVALID', /twice/);
  });

  test('refuses files that are not report files, before any signature is checked', () => {
    for (const bad of [
      null,
      'text',
      [],
      { v: 2 },
      { ...signed(), kind: 'volact.offline-bundle' },
      { ...signed(), certificates: [] },
    ])
      refuses(bad, 'USAGE_REPORT_INVALID');
    assert.throws(() => parseUsageReportFile('{"v":1,'), { code: 'USAGE_REPORT_INVALID' });
    assert.throws(() => parseUsageReportFile('\u0000GIF'), { code: 'USAGE_REPORT_INVALID' });
    assert.deepEqual(parseUsageReportFile(JSON.stringify(signed())).kind, 'volact.usage-report-file');
  });

  test('totals take the busiest month per edition, not the sum of months', () => {
    assert.deepEqual(usageTotals(report()), [
      { edition: 0, code: null, maxMonthlyGranted: 0, refused: 4 },
      { edition: 201, code: 'server-standard', maxMonthlyGranted: 3, refused: 1 },
    ]);
  });
});
