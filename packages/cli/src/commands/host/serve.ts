import type { Command } from 'commander';
import { VolactError } from '@volact/protocol';
import type { DnsConfig } from '@volact/host';
import { defaultConnectionLimits, metricsUrl, parseMetricsListen, processClock } from '@volact/io';
import { applySettingsFile, configurable } from '../../config-file.js';
import { reloadOnHangup } from '../../process-signals.js';
import { accessLogOn, accessLogOption, serverLog, stopOnSignals } from '../../server-log.js';
import { connectionOptions } from '../../connection-options.js';
import { readUserFile } from '../../files.js';
import { fail } from '../../output.js';
import { defaultHostDir, numberOption, readRootPem } from './inputs.js';

/** Loopback: metrics are for the machine's own Prometheus (or a proxy the operator puts in front). */
export const DEFAULT_HOST_METRICS = '127.0.0.1:9688';
/** Loopback: the console is for operators on this machine (or an SSH tunnel) unless opened on purpose. */
export const DEFAULT_HOST_CONSOLE = '127.0.0.1:1690';

/** The --dns-* options given (only those; the host keeps the stored rest). */
function dnsOptions(o: Record<string, string | undefined>): Partial<DnsConfig> | undefined {
  const change: Partial<DnsConfig> = {};
  if (o.dnsServer !== undefined) change.server = o.dnsServer;
  if (o.dnsDomain !== undefined) change.domain = o.dnsDomain.replace(/\.$/, '').toLowerCase();
  // an empty value clears: --dns-name '' goes back to NAME.DOMAIN, --dns-address '' publishes no address
  if (o.dnsName !== undefined) change.target = o.dnsName === '' ? null : o.dnsName.replace(/\.$/, '').toLowerCase();
  if (o.dnsAddress !== undefined) change.address = o.dnsAddress === '' ? null : o.dnsAddress;
  const priority = numberOption('--dns-priority', o.dnsPriority, 65535);
  const weight = numberOption('--dns-weight', o.dnsWeight, 65535);
  if (priority !== undefined) change.priority = priority;
  if (weight !== undefined) change.weight = weight;
  if (o.dnsExtra !== undefined) {
    change.extraDomains = o.dnsExtra
      .split(';')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((item) => {
        const [domain, p, w, ...rest] = item.split(',').map((x) => x.trim());
        if (!domain || rest.length)
          throw new VolactError('USAGE', { detail: `--dns-extra ${item}: give "domain,priority,weight"` });
        return {
          domain: domain.replace(/\.$/, '').toLowerCase(),
          priority: numberOption('--dns-extra priority', p || '0', 65535)!,
          weight: numberOption('--dns-extra weight', w || '0', 65535)!,
        };
      });
  }
  return Object.keys(change).length ? change : undefined;
}
/** The options of `volact host serve`, from flags, the environment or the settings file; `host config --show` reads the same. */
export function hostServeOptions(cmd: Command): Command {
  return configurable(
    cmd
      .option(
        '--state <dir>',
        'host state directory (env VOLACT_HOST_DIR, default /var/lib/volact/host, on Windows %ProgramData%\\volact\\host)',
      )
      .option('--root <file>', "the publisher's root.pub, or its offline bundle, to pin (needed the first time)")
      .option('--authority <url>', 'authority URL for host activation')
      .option('--port <port>', 'client port (default 1688, or the stored -sprt setting)')
      .option('--listen <address>', 'IP address to listen on (default ::, all addresses, or the stored one)')
      .option('--serve-networks <cidrs>', 'comma-separated networks to serve (default: loopback and private ranges)')
      .option(
        '--name <name>',
        "host name shown to clients and the default SRV target (default: the stored one, else the machine name; '' goes back to the machine name)",
      )
      .option('--dns-server <host[:port]>', 'primary DNS server of the zone, for publishing the SRV record (RFC 2136)')
      .option('--dns-domain <domain>', 'home domain (zone) to publish _volact._tcp.<domain> in')
      .option('--dns-name <fqdn>', "the host's own name, the SRV target (default: NAME.DOMAIN)")
      .option('--dns-address <ip>', 'also publish this A/AAAA record for the host name')
      .option('--dns-priority <n>', 'SRV priority in the home domain (default 0)')
      .option('--dns-weight <n>', 'SRV weight in the home domain (default 0)')
      .option('--dns-extra <list>', 'extra domains: "domain,priority,weight" separated by ";"')
      .option('--tsig-key <file>', "the host's own TSIG key (BIND key file, hmac-sha256), kept as dns.key (0600)")
      .option(
        '--new-database',
        'start with a new, empty host.db although this host was set up here (host.db lost, no backup); then -ipk and -ato again',
      )
      .option(
        '--max-connections <n>',
        'open client connections in all; at the cap the longest idle one is closed (0: no cap)',
        String(defaultConnectionLimits.total),
      )
      .option(
        '--max-connections-per-address <n>',
        'open client connections from one address (0: no cap; raise it for many machines behind one NAT address)',
        String(defaultConnectionLimits.perAddress),
      )
      .option(...accessLogOption)
      .option(
        '--metrics-listen <address:port>',
        'Prometheus metrics (GET /metrics) on a listener of their own, never the client port; off: none',
        DEFAULT_HOST_METRICS,
      )
      .option(
        '--console-listen <address:port>',
        'the host console (HTTPS) on a listener of its own; off: none',
        DEFAULT_HOST_CONSOLE,
      )
      .option('--console-cert <file>', "the console's TLS certificate (PEM; default: a self-signed one made in DIR)")
      .option('--console-key <file>', "the console's TLS private key (PEM), with --console-cert"),
    'host',
  );
}

/** `volact host serve`: the host code loads only here. */
export function registerServe(cmd: Command): void {
  hostServeOptions(
    cmd
      .command('serve')
      .description('run the activation host: client port and admin socket (DIR/admin.sock; a named pipe on Windows)'),
  ).action(async (_o: unknown, self: Command) => {
    try {
      applySettingsFile(self, 'host');
      const o = self.opts<Record<string, string | undefined>>();
      const port = o.port === undefined ? undefined : Number(o.port);
      if (port !== undefined && (!/^\d+$/.test(o.port!) || port > 65535))
        throw new VolactError('VALUE_OUT_OF_RANGE', { name: 'port', min: 0, max: 65535, value: o.port! });
      const accessLog = accessLogOn(o.accessLog);
      const { runHost, parseConsoleListen } = await import('@volact/host');
      const log = serverLog('host');
      const onReload = reloadOnHangup(log);
      const running = await runHost({
        dir: o.state ?? defaultHostDir(),
        clock: processClock(),
        rootPem: o.root ? readRootPem(o.root) : undefined,
        authorityUrl: o.authority,
        port,
        listenAddress: o.listen,
        servedNetworks: o.serveNetworks
          ?.split(',')
          .map((s) => s.trim())
          .filter(Boolean),
        hostName: o.name,
        dns: dnsOptions(o),
        tsigKeyText: o.tsigKey === undefined ? undefined : readUserFile(o.tsigKey, '--tsig-key'),
        connectionLimits: connectionOptions(o),
        newDatabase: Boolean(o.newDatabase),
        log,
        accessLog,
        metrics: {
          address: parseMetricsListen(o.metricsListen ?? DEFAULT_HOST_METRICS),
          // the default address taken (another host on this machine) only warns; a given one must bind
          explicit: self.getOptionValueSource('metricsListen') !== 'default',
        },
        console: {
          address: parseConsoleListen(o.consoleListen ?? DEFAULT_HOST_CONSOLE),
          explicit: self.getOptionValueSource('consoleListen') !== 'default',
          certFile: o.consoleCert,
          keyFile: o.consoleKey,
        },
      });
      log.info(
        {
          port: running.port(),
          address: running.host.settings.listenAddress,
          adminSocket: running.socketPath,
          activated: running.host.activated,
          accessLog,
          metrics: metricsUrl(running.metricsAddress),
          console: running.console?.url ?? null,
          consoleFingerprint: running.console?.fingerprint ?? null,
        },
        'listening',
      );
      stopOnSignals(log, running.close);
      // systemctl reload: dns.key again (a rotated TSIG key), the stored priority, publish now
      onReload(() => running.reload());
    } catch (err) {
      fail(err, false);
    }
  });
}
