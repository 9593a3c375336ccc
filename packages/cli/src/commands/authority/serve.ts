import type { Command } from 'commander';
import { configurable } from '../../config-file.js';
import { reloadOnHangup } from '../../process-signals.js';
import { VolactError } from '@volact/protocol';
import { defaultConnectionLimits, parseMetricsListen, processClock } from '@volact/io';
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
      };
      const { runAuthority } = await authorityPackage();
      const onReload = reloadOnHangup();
      const a = await runAuthority(
        dir,
        processClock(),
        port,
        listenOn,
        databaseOption(o),
        limits,
        tls,
        connectionOptions(o),
        {
          address: parseMetricsListen(o.metricsListen as string),
          // the default address taken (another authority node here) only warns; a given one must bind
          explicit: serve.getOptionValueSource('metricsListen') !== 'default',
        },
      );
      const m = a.metricsAddress;
      process.stdout.write(
        `authority listening on ${tls ? 'https' : 'http'}://${o.listen as string}:${a.port}\n` +
          (m ? `metrics on http://${m.host.includes(':') ? `[${m.host}]` : m.host}:${m.port}/metrics\n` : ''),
      );
      const stop = () => void a.close().then(() => process.exit(0));
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
      // systemctl reload: a renewed certificate; a pair that does not load leaves the old one serving
      onReload(() => {
        try {
          if (tls) a.reloadTls(readTls());
          process.stderr.write(tls ? 'reloaded the TLS certificate and key\n' : 'reload: nothing to reload\n');
        } catch (err) {
          process.stderr.write(`reload failed, the certificate in use stays: ${(err as Error).message}\n`);
        }
      });
    }, 'authority'),
  );
}
