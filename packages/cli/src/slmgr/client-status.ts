import { VolactError } from '@volact/protocol';
import type { Client } from '@volact/client';
import { iso } from '../output.js';
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
      return `Product activated successfully from the directory activation object ${o.name} (${o.dn}, read from ${o.host}); valid until ${iso(o.validUntil)}.`;
    case 'makActivated': {
      const g = o.makGrant;
      return `Product activated successfully with a MAK (${g.editionName}): the machine is permanently activated. ${g.activationsLimit - g.activationsUsed} of ${g.activationsLimit} activations left on this MAK.`;
    }
    case 'vmActivated':
    case 'vmRenewed':
      return `Product activated successfully by automatic VM activation: hypervisor ${o.vmGrant.hypervisorName} (ID ${o.vmGrant.hypervisorId}, agent ${o.host}); valid until ${iso(o.vmGrant.validUntil)}, renewed daily by the agent.`;
    case 'activated':
    case 'renewed':
      return `Product activated successfully by ${o.grant.hostName} (${o.host}); valid until ${iso(o.grant.validUntil)}. Count ${o.grant.count} of ${o.grant.required} needed.`;
    case 'countInsufficient':
    case 'refused': {
      const e = refusal(o)!;
      return `Error ${e.code}: ${e.message}\nFix: ${e.fix}`;
    }
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
    render: (o) => `${o.directoryNote ? `Directory activation not used: ${o.directoryNote}\n` : ''}${atoText(o)}`,
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
