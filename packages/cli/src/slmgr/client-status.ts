import { VolactError } from '@volact/protocol';
import type { Client } from '@volact/client';
import { t } from '../lang.js';
import { errorText, iso } from '../output.js';
import { expiryText, licenseText } from '../views/license.js';
import { slmgrOption } from './option.js';
import type { ClientContext } from './client.js';

const op = slmgrOption<ClientContext>();

type Outcome = Awaited<ReturnType<Client['activate']>>;

/** The error an answer that did not activate stands for. */
function refusal(o: Outcome): VolactError | null {
  if (o.kind === 'countInsufficient')
    return new VolactError('COUNT_INSUFFICIENT', {
      count: o.count,
      required: o.required,
      retryMinutes: o.retryMinutes,
    });
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
      return {
        outcome: o.kind,
        authority: o.host,
        edition: g.editionCode,
        activationsUsed: g.activationsUsed,
        activationsLimit: g.activationsLimit,
        activationsLeft: g.activationsLimit - g.activationsUsed,
      };
    }
    case 'vmActivated':
    case 'vmRenewed': {
      const g = o.vmGrant;
      return {
        outcome: o.kind,
        agent: o.host,
        guestId: g.vmUuid,
        hypervisorName: g.hypervisorName,
        hypervisorId: g.hypervisorId,
        edition: g.editionCode,
        validUntil: iso(g.validUntil),
      };
    }
    case 'activated':
    case 'renewed':
      return {
        outcome: o.kind,
        host: o.host,
        validUntil: iso(o.grant.validUntil),
        count: o.grant.count,
        required: o.grant.required,
        directoryNote: o.directoryNote ?? null,
      };
    case 'countInsufficient': {
      const e = refusal(o)!;
      return {
        outcome: o.kind,
        code: e.code,
        message: e.message,
        fix: e.fix,
        count: o.count,
        required: o.required,
        host: o.host,
        directoryNote: o.directoryNote ?? null,
      };
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
      return t('ato.directory', { name: o.name, dn: o.dn, server: o.host, validUntil: iso(o.validUntil) });
    case 'makActivated': {
      const g = o.makGrant;
      const left = g.activationsLimit - g.activationsUsed;
      return t('ato.mak', { edition: g.editionName, left, limit: g.activationsLimit });
    }
    case 'vmActivated':
    case 'vmRenewed': {
      const g = o.vmGrant;
      return t('ato.vm', { name: g.hypervisorName, id: g.hypervisorId, agent: o.host, validUntil: iso(g.validUntil) });
    }
    case 'activated':
    case 'renewed': {
      const g = o.grant;
      const validUntil = iso(g.validUntil);
      return t('ato.host', { hostName: g.hostName, host: o.host, validUntil, count: g.count, required: g.required });
    }
    case 'countInsufficient':
    case 'refused':
      return errorText(refusal(o)!);
  }
}

const details = ({ client }: ClientContext) => client.details();

/** -ato, -dli, -dlv and -xpr on a client. */
export const statusOptions = {
  ato: op({
    arity: 0,
    // -ato is a start: a refused machine account ends directory activation now
    run: ({ client }) => client.activate({ startup: true }),
    json: atoJson,
    render: (o) => `${o.directoryNote ? `${t('dlv.directoryNotUsed', { note: o.directoryNote })}\n` : ''}${atoText(o)}`,
    exit: (o) => refusal(o)?.exit ?? 0,
  }),
  dli: op({ arity: 0, run: details, render: (d) => licenseText(d, false) }),
  dlv: op({ arity: 0, run: details, render: (d) => licenseText(d, true) }),
  xpr: op({
    arity: 0,
    run: details,
    json: (d) => ({ licenseState: d.licenseState, endsAt: d.endsAt }),
    render: expiryText,
  }),
};
