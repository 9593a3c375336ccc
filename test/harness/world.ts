import { join } from 'node:path';
import { startService, type Service } from './processes.js';
import { volact } from './cli.js';

/** An initialised authority directory with the sample catalog, driven through the CLI. */
export type AuthorityWorld = {
  dir: string;
  rootPub: string;
  setupKeys: Record<string, string>;
  issueHostKey: (group: string, extra?: string[]) => Promise<string>;
  serve: (env?: Record<string, string>, extra?: string[]) => Promise<Service>;
};

export async function makeAuthority(base: string, env: Record<string, string> = {}): Promise<AuthorityWorld> {
  const dir = join(base, 'authority');
  const must = async (args: string[]) => {
    const r = await volact(args, env);
    if (r.code !== 0) throw new Error(`volact ${args.join(' ')} failed (${r.code}): ${r.stderr}${r.stdout}`);
    return r;
  };
  await must(['authority', 'init', '--dir', dir, '--json']);
  const catalog = (await must(['authority', 'import-catalog', '--dir', dir, '--json'])).json as {
    editions: { code: string; setupKey: string }[];
  };
  return {
    dir,
    rootPub: join(dir, 'root.pub'),
    setupKeys: Object.fromEntries(catalog.editions.map((e) => [e.code, e.setupKey])),
    issueHostKey: async (group, extra = []) =>
      (await must(['authority', 'issue-host-key', '--dir', dir, '--group', group, '--json', ...extra])).json
        .key as string,
    serve: (serveEnv = {}, extra = []) =>
      // no metrics listener unless a test asks (extra wins): test processes leave the default ports alone
      startService(['authority', 'serve', '--dir', dir, '--port', '0', '--metrics-listen', 'off', ...extra], {
        ...env,
        ...serveEnv,
      }),
  };
}

/** Starts an activation host process on a free loopback port. */
export function startHost(
  dir: string,
  opts: { root: string; authority: string; env?: Record<string, string>; extra?: string[] },
): Promise<Service> {
  return startService(
    [
      'host',
      'serve',
      '--state',
      dir,
      '--root',
      opts.root,
      '--authority',
      opts.authority,
      '--port',
      '0',
      '--listen',
      '127.0.0.1',
      '--name',
      'test-host',
      // no metrics listener unless a test asks (a later --metrics-listen in extra wins)
      '--metrics-listen',
      'off',
      // nor a console: test processes leave 127.0.0.1:1690 alone (a later --console-listen wins)
      '--console-listen',
      'off',
      ...(opts.extra ?? []),
    ],
    opts.env ?? {},
  );
}
