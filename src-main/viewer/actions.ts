// What a viewer may ask a host to do besides streaming: diagnose a port, stop a process, take a
// snapshot, and (Electron only) save a file or open a folder. One implementation for every host;
// the checks that a renderer cannot be trusted with live here, not in the UI.

import type { Resync } from '../shared/contract';
import type { ActionRequest, NamesAnswer, ReverseDnsMode } from '../shared/ipc';
import { gatherPortEvidence } from '../collect/port-evidence';
import { diagnosePort } from '../track/port-doctor';
import { killProcess } from '../actions/kill-process';
import { closeConnection, findConnection } from '../actions/close-connection';
import type { Poller } from '../poll/poller';
import { hostInfo, ReverseNames } from '../collect';
import { portHistory } from '../history/query';
import { cutRecording } from '../history/cut';
import type { RecordingControl } from '../history/subscriber';
import { readHistory, snapshotAt } from '../history/read';
import { parseWhen } from '../history/when';

export interface HostActions {
  run(request: ActionRequest): Promise<unknown>;
  /** The host's flight recorder, whose state its viewers are shown; absent: none. */
  readonly recording?: RecordingControl;
}

/** What only the Electron host can do (a native save dialog, the file manager). */
export interface DesktopActions {
  save(name: string, text: string): Promise<string>;
  openFolder(path: string): Promise<void>;
  /** Starts the privileged helper through the consent dialog; says what came of it. */
  showAllOwners(): Promise<string>;
}

export class ActionRefused extends Error {}

/** An answer already serialised: the session splices it into the reply instead of stringifying again. */
export class PreSerialised {
  constructor(readonly json: string) {}
}

/** How long a snapshot answers further snapshot requests (less than the shortest poll, 250 ms). */
export const SNAPSHOT_FRESH_MS = 200;

export interface HostActionOptions {
  /** How remote addresses are named (reverse DNS); 'on' by default. */
  reverseDns?: ReverseDnsMode;
  /** The host's flight recorder: the history viewers may ask about, and turn on or off. */
  recording?: RecordingControl;
}

export function createHostActions(
  poller: Poller,
  desktop: DesktopActions | null = null,
  options: HostActionOptions = {},
): HostActions {
  // One cache of names per host, shared by its viewers.
  const names = new ReverseNames({ mode: options.reverseDns ?? 'on' });
  // Reading the whole table (parse) is the costly part, on the main thread that forwards every
  // viewer's stream: requests made while a read is under way share it.
  let reading: Promise<Resync> | null = null;
  const current = (): Promise<Resync> =>
    (reading ??= poller
      .current()
      .then((json) => JSON.parse(json) as Resync)
      .finally(() => (reading = null)));
  // A snapshot asked for within SNAPSHOT_FRESH_MS of the last one is of that table (it says when
  // it was taken): a viewer asking 60 times a second costs the poll worker a few copies of a 20 MB
  // document a second, not 60 (each a copy in both threads' heaps). The worker builds and
  // serialises it once per table version: this thread never parses a table for it.
  let fresh: Promise<string> | null = null;
  const snapshotJson = async (): Promise<PreSerialised> => {
    if (fresh === null) {
      const asked = (fresh = poller.snapshot());
      void asked.finally(() => setTimeout(() => fresh === asked && (fresh = null), SNAPSHOT_FRESH_MS).unref());
    }
    return new PreSerialised(await fresh);
  };
  const moment = (text: string, now: number): number => {
    const at = parseWhen(text, now);
    if (at === null) throw new ActionRefused('a moment is "15:12", "10 min ago" or an ISO time (2026-12-06T15:12:00)');
    return at;
  };
  const recording = options.recording;
  /** The recorder of a host that has a history, or refused. */
  const recorder = (): RecordingControl & { path: string } => {
    if (!recording?.path) throw new ActionRefused('this host records no history (see porthole serve --help)');
    return recording as RecordingControl & { path: string };
  };
  const recorded = (): string => recorder().path;
  return {
    ...(recording ? { recording } : {}),
    async run(request) {
      switch (request.type) {
        case 'names':
          return { mode: names.options.mode, names: await names.resolve(request.addresses) } satisfies NamesAnswer;
        case 'doctor': {
          const table = await current();
          const { port, protocol, address } = request;
          const evidence = await gatherPortEvidence(
            { port, protocol, address },
            { sockets: table.sockets, processes: table.processes, publishedPorts: table.publishedPorts },
          );
          return diagnosePort(evidence);
        }
        case 'kill': {
          // A viewer may only stop a process that owns a socket now: not any pid it can name.
          const table = await current();
          if (!table.sockets.some((s) => s.pids.includes(request.pid)))
            throw new ActionRefused(`pid ${request.pid} owns no socket now; only socket owners can be stopped here`);
          // With the privileged helper polling, it stops the process (as root, checking again).
          if (poller.kind === 'helper')
            return poller.stopProcess({ pid: request.pid, startedAt: request.startedAt, force: request.force });
          return killProcess({ pid: request.pid, startedAt: request.startedAt }, { force: request.force });
        }
        case 'close': {
          // Only a connection in the table now: not any 4-tuple a viewer can name.
          const table = await current();
          const found = findConnection(table.sockets, request);
          if (typeof found === 'string') throw new ActionRefused(found);
          return closeConnection(found);
        }
        case 'snapshot':
          return snapshotJson();
        case 'save':
          if (!desktop)
            throw new ActionRefused('saving through the host is for the desktop app; the browser downloads');
          return desktop.save(request.name, request.text);
        case 'showAllOwners':
          if (!desktop)
            throw new ActionRefused('the privileged helper is for the desktop app; run porthole serve as root');
          return desktop.showAllOwners();
        case 'tableAt': {
          const history = recorded();
          const at = moment(request.at, Date.now());
          // The document's text, made once here: it is the reply as it is.
          return new PreSerialised(JSON.stringify(readHistory(history, (store) => snapshotAt(store, at, hostInfo()))));
        }
        case 'cutRecording': {
          const history = recorded();
          const now = Date.now();
          const since = moment(request.since, now);
          const until = moment(request.until, now);
          return readHistory(history, (store) => cutRecording(store, since, until));
        }
        case 'setRecording': {
          const control = recorder();
          if (request.on) await control.start();
          else await control.stop(true);
          return control.current;
        }
        case 'portHistory': {
          const history = recorded();
          const now = Date.now();
          return readHistory(history, (store) => portHistory(store, request.port, now - request.hours * 3600_000, now));
        }
        case 'openFolder': {
          if (!desktop) throw new ActionRefused('opening folders is for the desktop app');
          const table = await current();
          if (!table.processes.some((p) => p.cwd === request.path))
            throw new ActionRefused('only the working directory of a process in the table can be opened');
          await desktop.openFolder(request.path);
          return null;
        }
      }
    },
  };
}
