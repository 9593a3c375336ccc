import { exitCodes } from '@volact/protocol';
import { adminContext } from '../ldap-options.js';
import { qrText, qrWanted } from '../qr.js';
import { slmgrOption, type SlmgrOption } from './option.js';
import type { ClientContext } from './client.js';

const op = slmgrOption<ClientContext>();

/** The directory code (and its LDAP client) loads only when one of these runs. */
const directory = () => import('@volact/directory');

/** The administrator's directory options of `volact slmgr`: the verbs live in @volact/directory. */
export const directoryOptions: Record<string, SlmgrOption<ClientContext, unknown>> = {
  'ad-activation-online': op({
    arity: [1, 2],
    usage: '-ad-activation-online HOST-KEY [NAME]',
    run: async ({ client, ldap }, call) =>
      (await directory()).activateOnline(adminContext(client, ldap), call.values[0]!, call.values[1]),
    render: (r) =>
      `Activation object ${r.name} created successfully at ${r.dn} (${r.server}) for ${r.group}: ${r.editions.join(', ')}. Host key activations used: ${r.activationsUsed} of ${r.activationsLimit}. Members of the directory activate from it at their next start.`,
  }),
  'ad-activation-get-iid': op({
    arity: 1,
    usage: '-ad-activation-get-iid HOST-KEY',
    run: async ({ client, ldap }, call) =>
      (await directory()).installationIdFor(adminContext(client, ldap), call.value!),
    render: (r) =>
      [
        'Installation ID of this directory and host key:',
        '',
        `  ${r.installationId}`,
        '',
        ...(qrWanted() ? [qrText(r.installationId)] : []),
        'Give it to your publisher and apply the answer with: volact slmgr -ad-activation-apply-cid HOST-KEY CONFIRMATION-ID [NAME]',
      ].join('\n'),
  }),
  'ad-activation-apply-cid': op({
    arity: [2, 3],
    usage:
      '-ad-activation-apply-cid HOST-KEY CONFIRMATION-ID [NAME] (the confirmation ID as one word, hyphens between groups)',
    run: async ({ client, ldap }, call) =>
      (await directory()).applyConfirmation(
        adminContext(client, ldap),
        call.values[0]!,
        call.values[1]!,
        call.values[2],
      ),
    render: (r) =>
      `Activation object ${r.name} created successfully at ${r.dn} (${r.server}) from the confirmation ID, for ${r.group}: ${r.editions.join(', ')}.`,
  }),
  'ao-list': op({
    arity: 0,
    run: async ({ client, ldap }) => (await directory()).listActivationObjects(adminContext(client, ldap)),
    render: (r) =>
      [
        `Activation objects in ${r.container} (${r.server}, directory ID ${r.directoryId}):`,
        ...(r.objects.length
          ? r.objects.map(
              (o) =>
                `  ${o.name}  ${o.status === 'valid' ? `valid, ${o.group} (${o.editions.join(', ')})${o.offline ? ', offline' : ''}` : `NOT VALID (${o.status}: ${o.detail})`}\n    ${o.dn}`,
            )
          : ['  (none)']),
      ].join('\n'),
    exit: (r) => (r.objects.every((o) => o.status === 'valid') ? 0 : exitCodes.trust),
  }),
  'del-ao': op({
    arity: 1,
    usage: '-del-ao NAME (or its DN)',
    run: async ({ client, ldap }, call) =>
      (await directory()).deleteActivationObject(adminContext(client, ldap), call.value!),
    render: (r) =>
      `Activation object ${r.deleted} deleted successfully. Members stop using it at their next read of the directory (within 7 days); those with no other valid object then use an activation host, unless -act-type 1 keeps them to the directory.`,
  }),
};
