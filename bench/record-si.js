#!/usr/bin/env node
// Records systeminformation's readings on this machine as a fixture for the collector's tests:
//   node bench/record-si.js > tests/fixtures/systeminformation/<platform>-networkConnections.json
// Run it on macOS or Windows; mark each entry's `_source` as recorded there before committing.
const si = require('systeminformation');

Promise.all([si.networkConnections(), si.processes()]).then(([connections, processes]) => {
  const pids = new Set(connections.map((c) => c.pid));
  const source = `recorded: ${process.platform} ${require('node:os').release()}, systeminformation ${si.version()}, ${new Date().toISOString()}`;
  process.stdout.write(
    JSON.stringify(
      {
        connections: connections.map((c) => ({ _source: source, ...c })),
        processes: processes.list
          .filter((p) => pids.has(p.pid))
          .map(({ pid, parentPid, name, command, params, user, started }) => ({
            pid,
            parentPid,
            name,
            command,
            params,
            user,
            started,
          })),
      },
      null,
      2,
    ) + '\n',
  );
});
