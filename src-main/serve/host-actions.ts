// What a viewer may ask a host to do besides streaming: diagnose a port, stop a process, take a
// snapshot, and (Electron only) save a file or open a folder. One implementation for every host;
// the checks that a renderer cannot be trusted with live here, not in the UI.

import { hostname, release } from 'node:os';
import { emptyStats, type Resync, type Snapshot } from '../shared/contract';
import type { ActionRequest } from '../shared/ipc';
import { buildSnapshot } from '../export/snapshot';
import { gatherPortEvidence } from '../collect/port-evidence';
import { diagnosePort } from '../track/port-doctor';
import { killProcess } from '../actions/kill-process';
import { closeConnection, findConnection } from '../actions/close-connection';
import type { Poller } from './poller';

export interface HostActions {
  run(request: ActionRequest): Promise<unknown>;
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

/** How long a table read for a snapshot answers further snapshot requests (less than the shortest poll, 250 ms). */
export const SNAPSHOT_FRESH_MS = 200;

export function createHostActions(poller: Poller, desktop: DesktopActions | null = null): HostActions {
  // Reading the whole table (parse) and serialising a snapshot are the costly parts, on the main
  // thread that forwards every viewer's stream: requests made while a read is under way share it,
  // and a snapshot is serialised once per table version, however many viewers ask for it.
  let asking: Promise<string> | null = null;
  const currentJson = (): Promise<string> => (asking ??= poller.current().finally(() => (asking = null)));
  let reading: Promise<Resync> | null = null;
  const current = (): Promise<Resync> =>
    (reading ??= currentJson()
      .then((json) => JSON.parse(json) as Resync)
      .finally(() => (reading = null)));
  let serialised: { seq: number; json: string } | null = null;
  // A snapshot asked for within SNAPSHOT_FRESH_MS of the last table read is of that table (it says
  // when it was taken): a viewer asking 60 times a second costs the poll worker a few copies of a
  // 20 MB table a second, not 60 (each a copy in both threads' heaps: serve's RSS passed 450 MB at
  // 40,000 sockets). And the table's seq leads its JSON (`{"seq":N,…`, tracker.current()): a
  // version already serialised is answered without parsing it again.
  let fresh: string | null = null;
  const freshJson = async (): Promise<string> => {
    if (fresh !== null) return fresh;
    const json = await currentJson();
    fresh = json;
    setTimeout(() => (fresh = null), SNAPSHOT_FRESH_MS).unref();
    return json;
  };
  const snapshotJson = async (): Promise<PreSerialised> => {
    const json = await freshJson();
    const seq = Number(/^\{"seq":(\d+),/.exec(json.slice(0, 32))?.[1] ?? NaN);
    if (serialised && serialised.seq === seq) return new PreSerialised(serialised.json);
    const table = JSON.parse(json) as Resync;
    if (serialised?.seq !== table.seq) {
      const snapshot: Snapshot = buildSnapshot(
        {
          sockets: table.sockets,
          processes: table.processes,
          stats: table.stats ?? emptyStats(),
          namespaces: table.namespaces,
          publishedPorts: table.publishedPorts,
        },
        { hostname: hostname(), platform: process.platform, release: release() },
        new Date(table.at || Date.now()),
      );
      serialised = { seq: table.seq, json: JSON.stringify(snapshot) };
    }
    return new PreSerialised(serialised.json);
  };
  return {
    async run(request) {
      switch (request.type) {
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
