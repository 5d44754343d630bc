// `porthole exporter`: the socket table as Prometheus / OpenMetrics metrics.

import { readUserFile } from '../export/read-snapshot-file';
import { startExporter } from '../exporter/server';
import { channelFromEnvironment } from '../poll/channel';
import { Poller } from '../poll/poller';
import { printable } from '../shared/printable';
import { parseWebConfig, WebConfigError, type WebConfig } from '../web/web-config';
import { parseEndpoint, parseInterval, UsageError } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK, packageVersion, untilStopped } from './io';

export const exporter = defineVerb({
  name: 'exporter',
  summary: 'Prometheus / OpenMetrics metrics of the socket table',
  description: `Prometheus / OpenMetrics metrics at /metrics: sockets by protocol, family, state and
namespace, listeners by port and process, connections opened and closed, lost events, poll
durations. Loopback unless --listen names another address, which then needs a bearer token,
or basic auth or client certificates in --web-config-file (Prometheus exporter-toolkit's
format: tls_server_config, basic_auth_users), which may also turn on TLS.`,
  options: {
    listen: { type: 'string', value: 'ADDRESS:PORT', description: 'where to serve (default 127.0.0.1:9464)' },
    interval: { type: 'string', value: 'MS', description: 'poll every MS milliseconds (250-10000, default 1000)' },
    'bearer-token-file': { type: 'string', value: 'F', description: 'scrapers must send the token in F' },
    'web-config-file': { type: 'string', value: 'F', description: "exporter-toolkit's web configuration" },
    'max-process-series': {
      type: 'string',
      value: 'N',
      description: 'listeners of at most N processes get series of their own (default 100)',
    },
  },
  async run({ values }, io) {
    const listen = values.listen ?? '127.0.0.1:9464';
    // Port 0: any free port (the address printed says which).
    const { address, port } = parseEndpoint(listen, '--listen', 0);
    const maxSeries = values['max-process-series'] === undefined ? 100 : Number(values['max-process-series']);
    if (!Number.isInteger(maxSeries) || maxSeries < 1 || maxSeries > 10_000)
      throw new UsageError('--max-process-series takes 1-10000.');
    let bearerToken: string | null = null;
    if (values['bearer-token-file'] !== undefined) {
      // Read as any file a user names: a FIFO or a device is refused at once, not waited on.
      bearerToken = readUserFile(values['bearer-token-file'], 4096).toString('utf8').trim();
      if (bearerToken.length < 16) throw new UsageError('--bearer-token-file holds a token of 16 characters or more.');
    }
    let webConfig: WebConfig | null = null;
    if (values['web-config-file'] !== undefined) {
      const path = values['web-config-file'];
      const read = (file: string) => readUserFile(file, 1024 * 1024);
      try {
        webConfig = parseWebConfig(read(path).toString('utf8'), path, read);
      } catch (error) {
        if (!(error instanceof WebConfigError)) throw error;
        throw new UsageError(`--web-config-file "${printable(path)}": ${error.message}.`);
      }
    }
    // No metric is a connection's bytes: the kernel need not fill tcp_info for each every poll.
    const poller = new Poller({
      intervalMs: parseInterval(values.interval),
      traffic: false,
      channel: channelFromEnvironment(),
    });
    poller.onError((message) => io.stderr(`${message}\n`));
    let server;
    try {
      server = await startExporter({
        poller,
        host: address,
        port,
        version: packageVersion(),
        maxProcessSeries: maxSeries,
        bearerToken,
        webConfig,
      });
    } catch (error) {
      await poller.stop();
      io.stderr(`Cannot serve metrics on ${printable(listen)}: ${(error as Error).message}.\n`);
      return EXIT_FAILURE;
    }
    io.stdout(`Porthole metrics at ${server.url}\n`);
    await untilStopped();
    await server.close();
    await poller.stop();
    return EXIT_OK;
  },
});
