// `porthole record`: the flight recorder without a window or a web server, for machines where
// nothing else polls (a systemd user unit runs it: resources/linux/porthole-recorder.service).

import { channelFromEnvironment } from '../poll/channel';
import { Poller } from '../poll/poller';
import { defaultHistoryPath } from '../history/store';
import { RecordingControl } from '../history/subscriber';
import { HISTORY_LIMIT_OPTIONS, historyLimits } from './history';
import { parseInterval } from './args';
import { defineVerb, EXIT_FAILURE, EXIT_OK, untilStopped } from './io';

export const record = defineVerb({
  name: 'record',
  summary: 'Record the table into the history, with no UI (see porthole history)',
  description: `Polls the socket table and records it into the history database, as \`porthole serve\`
does, until Ctrl-C or SIGTERM. For a machine where no window or server is open.`,
  options: {
    history: { type: 'string', value: 'PATH', description: 'the history database (default: the per-user one)' },
    interval: { type: 'string', value: 'MS', description: 'poll every MS milliseconds (250-10000, default 1000)' },
    ...HISTORY_LIMIT_OPTIONS,
  },
  async run({ values }, io) {
    const intervalMs = parseInterval(values.interval);
    const limits = historyLimits(values);
    const path = values.history ?? defaultHistoryPath();
    // The history keeps no connection's bytes: the kernel need not fill tcp_info for each every poll.
    const poller = new Poller({ intervalMs, traffic: false, channel: channelFromEnvironment() });
    poller.onError((message) => io.stderr(`${message}\n`));
    const recording = new RecordingControl(poller, path, (line) => io.stderr(`${line}\n`), limits);
    if (!(await recording.start())) {
      await poller.stop();
      return EXIT_FAILURE;
    }
    io.stderr(`Recording the socket table into ${path} (Ctrl-C to stop).\n`);
    await untilStopped();
    await recording.stop();
    await poller.stop();
    return EXIT_OK;
  },
});
