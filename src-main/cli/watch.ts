// `porthole watch`: a line per change to the socket table, or the stream itself as NDJSON.

import { channelFromEnvironment } from '../poll/channel';
import { followPoller } from '../poll/follow';
import { Poller } from '../poll/poller';
import type { ConnectionChain, Delta, EventMode, Socket } from '../shared/contract';
import { printable } from '../shared/printable';
import { describeSocket } from '../export/formats';
import { groupChains, groupDuration } from '../track/connection-chains';
import { formatEndpoint } from '../track/identity';
import { isOwnerChange } from '../track/diff';
import { StreamTable } from '../track/stream-table';
import { parseEventBuffer, parseInterval } from './args';
import { defineVerb, EXIT_OK, untilStopped } from './io';

/**
 * Human lines for one delta, each stamped with the scan's time. `ownersFound`: the delta that fills
 * in the owners of a table sent before them (stats.ownersPending), whose owners are not news.
 */
export function describeDelta(delta: Delta, gone: Socket[], ownersFound = false): string[] {
  const time = delta.at.slice(11, 23);
  return [
    ...delta.added.map((s) => `${time} + ${describeSocket(s)} ${s.state}`),
    ...delta.changed
      .filter((c) => c.from.state !== undefined || isOwnerChange(c, ownersFound))
      .map((c) =>
        c.from.state !== undefined
          ? `${time} ~ ${describeSocket(c.to)} ${c.from.state} → ${c.to.state}`
          : `${time} ~ ${describeSocket(c.to)} owner ${c.from.pid ?? '-'} → ${c.to.pid ?? '-'}`,
      ),
    ...gone.map((s) => `${time} - ${describeSocket(s)} ${s.state}`),
  ];
}

/** What a watcher sees, said once: every TCP change (kernel events), or only what polls catch. */
export function eventModeWords(mode: EventMode | null | undefined, intervalMs: number): string {
  const polling = `polling every ${intervalMs / 1000} s`;
  const lost = mode?.lost ? ` (${mode.lost.toLocaleString('en-US')} lost so far)` : '';
  return mode?.active
    ? `${polling} and recording every TCP state change from kernel events${lost}.`
    : `${polling}; connections shorter than that are not seen${mode?.reason ? ` (kernel events: ${mode.reason})` : ''}.`;
}

/** What did not reach this watcher: kernel events lost since `before`, finished connections not sent. */
export function describeLosses(delta: Delta, lostBefore: number): string[] {
  const time = delta.at.slice(11, 23);
  const lines: string[] = [];
  const lost = delta.eventMode?.lost ?? lostBefore;
  if (lost > lostBefore)
    lines.push(
      `${time} ! the kernel lost ${(lost - lostBefore).toLocaleString('en-US')} TCP events (its buffer was full; ${lost.toLocaleString('en-US')} in all): some connections are missing or incomplete`,
    );
  if (delta.chainsDropped)
    lines.push(
      `${time} ! ${delta.chainsDropped.toLocaleString('en-US')} finished connections were not sent to this watcher (it fell behind)`,
    );
  return lines;
}

/** Finished connections (event mode), a line per burst: 1,000 connections to one port are one line. */
export function describeChains(chains: ConnectionChain[]): string[] {
  return groupChains(chains).map((g) => {
    const time = new Date(g.last).toISOString().slice(11, 23);
    if (g.count === 1) {
      const c = g.examples[0];
      const local = formatEndpoint(c.localAddress, c.localPort);
      return printable(
        `${time} * tcp ${local} → ${formatEndpoint(c.remoteAddress, c.remotePort)} ${g.path} (${groupDuration(g)})`,
      );
    }
    const other = g.otherPaths > 0 ? `; ${g.otherPaths} ended otherwise` : '';
    return printable(`${time} * ${g.count} connections ${g.label} ${g.path} (${groupDuration(g)}${other})`);
  });
}

export const watch = defineVerb({
  name: 'watch',
  summary: 'A line per change to the socket table, as it happens',
  description: `A line per change to the socket table. With --json, NDJSON stream messages: the whole
table first ({"type":"resync",…}), then each change ({"type":"delta",…}). As root, also
every connection that ended (kernel events), and a line when the kernel lost events.`,
  options: {
    json: { type: 'boolean', description: 'NDJSON stream messages instead of lines' },
    interval: { type: 'string', value: 'MS', description: 'poll every MS milliseconds (250-10000, default 1000)' },
    'event-buffer-kb': {
      type: 'string',
      value: 'KB',
      description: "the kernel's event buffer per CPU (default 4096); bigger rides out longer bursts",
    },
  },
  async run({ values }, io) {
    const intervalMs = parseInterval(values.interval);
    const poller = new Poller({
      intervalMs,
      eventBufferKb: parseEventBuffer(values['event-buffer-kb']),
      channel: channelFromEnvironment(),
    });
    poller.onError((message) => io.stderr(`${message}\n`));
    if (values.json) {
      // The stream as it comes, a message a line: nothing here reads it, so nothing parses it (a
      // table of 100,000 sockets is 30 MB of text, and its copy here as much again).
      const subscription = poller.subscribe((json) => {
        io.stdout(json + '\n');
        subscription.ack();
      });
      await untilStopped(io.outputClosed);
      subscription.close();
      await poller.stop();
      return EXIT_OK;
    }
    const table = new StreamTable();
    // The worker may not have polled yet when we subscribe (a resync at seq 0): the first real
    // reading then arrives as a delta adding everything, which is the table, not news.
    let seq = 0;
    let lost = 0;
    let ownersPending = false;
    const header = () =>
      io.stderr(
        `Watching ${table.sockets.size} sockets, ${eventModeWords(table.eventMode, intervalMs)} Ctrl-C stops.\n`,
      );
    const subscription = followPoller(poller, table, (received) => {
      if (received.type === 'resync') {
        lost = table.eventMode?.lost ?? lost;
        if (seq === 0 && received.resync.seq > 0) header();
        seq = received.resync.seq;
        ownersPending = received.resync.stats?.ownersPending === true;
        return;
      }
      const { delta, applied } = received;
      if (seq === 0) header();
      else for (const line of describeDelta(delta, applied.gone, ownersPending)) io.stdout(line + '\n');
      for (const line of describeChains(delta.chains ?? [])) io.stdout(line + '\n');
      for (const line of describeLosses(delta, lost)) io.stdout(line + '\n');
      lost = table.eventMode?.lost ?? lost;
      seq = delta.seq;
      ownersPending = delta.stats.ownersPending === true;
    });
    await untilStopped(io.outputClosed);
    subscription.close();
    await poller.stop();
    return EXIT_OK;
  },
});
