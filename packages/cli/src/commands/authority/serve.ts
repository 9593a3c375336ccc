import type { Command } from 'commander';
import { configurable } from '../../config-file.js';
import { reloadOnHangup } from '../../process-signals.js';
import { accessLogOn, accessLogOption, serverLog, stopOnSignals } from '../../server-log.js';
import { VolactError } from '@volact/protocol';
import { defaultConnectionLimits, metricsUrl, parseMetricsListen, processClock } from '@volact/io';
import { connectionOptions } from '../../connection-options.js';
import { readUserFile } from '../../files.js';
import { authorityPackage, databaseOption, dbOpt, defaultDir, dirOpt, intOption, isLoopback, run } from './common.js';

/** Loopback: the API port faces the internet, metrics must not. */
const DEFAULT_AUTHORITY_METRICS = '127.0.0.1:9689';

/** `authority serve`: the authority's HTTP API. */
export function registerServe(cmd: Command): void {
  const serve = cmd
    .command('serve')
    .description('serve the authority API (host activation, catalog)')
    .option('--port <port>', 'TCP port', '8180')
    .option('--listen <address>', 'address to listen on (plain HTTP: loopback only)', '127.0.0.1')
    .option('--tls-cert <file>', 'serve HTTPS with this certificate chain (PEM)')
    .option('--tls-key <file>', 'and this private key (PEM, keep it 0600)')
    .option(
      '--behind-tls-proxy',
      'plain HTTP on a non-loopback address because a TLS-terminating proxy on this machine is in front',
    )
    .option('--rate-per-address <n>', 'activation requests a minute from one address, across all nodes (0: off)', '120')
    .option('--rate-per-key <n>', 'activation requests a minute for one product key, across all nodes (0: off)', '30')
    .option('--rate-logins <n>', 'web console logins a minute from one address, across all nodes (0: off)', '20')
    .option(
      '--max-connections <n>',
      'open connections in all; at the cap the longest idle one is closed (0: no cap)',
      String(defaultConnectionLimits.total),
    )
    .option(
      '--max-connections-per-address <n>',
      'open connections from one address (0: no cap; behind a proxy every client is the proxy)',
      String(defaultConnectionLimits.perAddress),
    )
    .option(...accessLogOption)
    .option(
      '--metrics-listen <address:port>',
      'Prometheus metrics (GET /metrics) on a listener of their own, never the API port; off: none',
      DEFAULT_AUTHORITY_METRICS,
    )
    .option(...dirOpt)
    .option(...dbOpt)
    .option('--json', 'errors as JSON');
  configurable(serve, 'authority').action(
    run(async (o) => {
      const dir = (o.dir as string | undefined) ?? defaultDir();
      const port = intOption('port', o.port as string, 0, 65535)!;
      const listenOn = o.listen as string;
      if (Boolean(o.tlsCert) !== Boolean(o.tlsKey))
        throw new VolactError('USAGE', { detail: '--tls-cert and --tls-key go together' });
      const readTls = () => ({
        cert: readUserFile(o.tlsCert as string, 'TLS certificate'),
        key: readUserFile(o.tlsKey as string, 'TLS key'),
      });
      const tls = o.tlsCert ? readTls() : undefined;
      // plain HTTP would carry keys and tokens in clear: only on loopback, or behind a local TLS proxy
      if (!tls && !isLoopback(listenOn) && !o.behindTlsProxy)
        throw new VolactError('TLS_REQUIRED', { address: listenOn });
      const limits = {
        perAddress: intOption('rate-per-address', o.ratePerAddress as string, 0, 1_000_000)!,
        perKey: intOption('rate-per-key', o.ratePerKey as string, 0, 1_000_000)!,
        perLogin: intOption('rate-logins', o.rateLogins as string, 0, 1_000_000)!,
      };
      const accessLog = accessLogOn(o.accessLog);
      const { runAuthority } = await authorityPackage();
      const log = serverLog('authority');
      const onReload = reloadOnHangup(log);
      const a = await runAuthority(
        dir,
        processClock(),
        port,
        listenOn,
        databaseOption(o),
        limits,
        tls,
        connectionOptions(o),
        { log, accessLog },
        {
          address: parseMetricsListen(o.metricsListen as string),
          // the default address taken (another authority node here) only warns; a given one must bind
          explicit: serve.getOptionValueSource('metricsListen') !== 'default',
        },
        { behindTlsProxy: Boolean(o.behindTlsProxy) },
      );
      const url = `${tls ? 'https' : 'http'}://${listenOn.includes(':') ? `[${listenOn}]` : listenOn}:${a.port}`;
      const metrics = metricsUrl(a.metricsAddress);
      log.info({ port: a.port, address: listenOn, url, tls: Boolean(tls), accessLog, metrics }, 'listening');
      stopOnSignals(log, a.close);
      // systemctl reload: a renewed certificate; a pair that does not load leaves the old one serving
      onReload(() => {
        try {
          if (tls) a.reloadTls(readTls());
          log.info({}, tls ? 'reloaded the TLS certificate and key' : 'reload: nothing to reload');
        } catch (err) {
          log.error({ error: (err as Error).message }, 'reload failed, the certificate in use stays');
        }
      });
    }, 'authority'),
  );
}
