// Listener groups and fan-out: what the UI shows, from a table of sockets.
import { describe, expect, it } from 'vitest';
import { addressScope, fanOut, isLiveConnection, listenerGroups, stackOf } from '../../src-main/track/views';
import { tcp } from '../helpers/sockets';
import { fanoutPicture } from '../../src-main/track/fanout-picture';
import { otherEndFinder } from '../../src-main/track/local-peers';
import { machineMap } from '../../src-main/track/machine-map';
import { sampleTable } from '../../src-renderer/src/stores/samples';
import { serviceName } from '../../src-main/track/service-names';
import type { Socket } from '../../src-main/shared/contract';

describe('listeners', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['::1', 'loopback'],
    ['0.0.0.0', 'wildcard'],
    ['::', 'wildcard'],
    ['192.168.1.20', 'specific'],
    ['fe80::1', 'specific'],
  ])('%s is %s', (address, scope) => expect(addressScope(address)).toBe(scope));

  it('tells v4, v6 and dual-stack apart', () => {
    expect(stackOf(tcp('0.0.0.0:80', null))).toBe('v4');
    expect(stackOf(tcp('[::1]:80', null))).toBe('v6');
    expect(stackOf(tcp('[::]:80', null))).toBe('dual-stack');
  });

  it('groups listeners by port and counts the connections they serve, not the clients they make', () => {
    const sockets = [
      tcp('127.0.0.1:3000', null, { inode: 1 }),
      tcp('[::1]:3000', null, { inode: 2 }),
      tcp('127.0.0.1:3000', '127.0.0.1:50001', { inode: 3 }),
      tcp('127.0.0.1:3000', '127.0.0.1:50002', { inode: 4 }),
      tcp('127.0.0.1:50001', '127.0.0.1:3000', { inode: 5 }), // the client's side
      tcp('[::]:8080', null, { inode: 6 }),
      tcp('[::ffff:127.0.0.1]:8080', '[::ffff:127.0.0.1]:40000', { inode: 7 }),
      { ...tcp('127.0.0.1:53', null, { inode: 8 }), protocol: 'udp' as const, state: 'UNCONN' as const },
    ];
    const groups = listenerGroups(sockets);
    expect(groups.map((g) => [g.id, g.listeners.length, g.connections])).toEqual([
      ['udp:53', 1, 0],
      ['tcp:3000', 2, 2],
      ['tcp:8080', 1, 1],
    ]);
  });
});

describe('one count per port', () => {
  it('is the live connections in Listeners, the fan-out and the map; ended ones are counted apart', () => {
    const live = [
      ...Array.from({ length: 3 }, (_, i) => tcp('127.0.0.1:5432', `127.0.0.1:${41000 + i}`, { inode: 10 + i })),
      tcp('127.0.0.1:5432', '127.0.0.1:41003', { inode: 13, state: 'CLOSE_WAIT' }),
    ];
    const ended = Array.from({ length: 300 }, (_, i) =>
      tcp('127.0.0.1:5432', `127.0.0.1:${42000 + i}`, { inode: 0, state: 'TIME_WAIT' as const, pid: null }),
    );
    const sockets = [tcp('0.0.0.0:5432', null, { inode: 1 }), ...live, ...ended];
    const group = listenerGroups(sockets).find((g) => g.id === 'tcp:5432')!;
    const view = fanOut(sockets, 'tcp', 5432);
    const port = machineMap(sockets).ports.find((p) => p.id === 'tcp:5432')!;
    const chart = sampleTable('2026-12-06T00:00:00.000Z', sockets, 0).byPort['5432'];
    expect([group.connections, view.live, port.weight, chart]).toEqual([4, 4, 4, 4]);
    expect([group.leftovers, view.leftovers]).toEqual([300, 300]);
    expect(view.total).toBe(304); // every socket the peers list
    // …the live ones first, so 300 TIME_WAIT rows do not bury them.
    expect(view.peers[0].sockets.slice(0, 4).map((s) => s.state)).toEqual([
      'ESTABLISHED',
      'ESTABLISHED',
      'ESTABLISHED',
      'CLOSE_WAIT',
    ]);
    expect(live.every(isLiveConnection)).toBe(true);
    expect(ended.some(isLiveConnection)).toBe(false);
  });
});

describe('fan-out', () => {
  it('shows one listener and the sockets behind it, grouped by peer, counted by state', () => {
    const sockets = [
      tcp('0.0.0.0:3000', null, { inode: 1 }),
      ...Array.from({ length: 12 }, (_, i) => tcp('127.0.0.1:3000', `127.0.0.1:${50000 + i}`, { inode: 10 + i })),
      tcp('10.0.0.5:3000', '10.0.0.9:41000', { inode: 30, state: 'CLOSE_WAIT' }),
      tcp('127.0.0.1:50000', '127.0.0.1:3000', { inode: 40 }),
    ];
    const view = fanOut(sockets, 'tcp', 3000);
    expect(view.total).toBe(13);
    expect(view.byState).toEqual({ ESTABLISHED: 12, CLOSE_WAIT: 1 });
    expect(view.peers.map((p) => [p.host, p.sockets.length])).toEqual([
      ['127.0.0.1', 12],
      ['10.0.0.9', 1],
    ]);
    // Twelve sockets on one port, told apart by their remote end.
    expect(new Set(view.peers[0].sockets.map((s) => s.remotePort)).size).toBe(12);
  });
});

describe('across network namespaces', () => {
  const inside = { netns: 4026532300, netnsName: 'db' };
  const published = {
    protocol: 'tcp' as const,
    hostAddress: '0.0.0.0',
    hostPort: 15432,
    netns: inside.netns,
    address: '172.17.0.2',
    port: 5432,
    container: { runtime: 'docker', id: 'abababababab', name: 'db', image: 'postgres:16' },
    via: 'docker-proxy' as const,
  };
  const sockets = [
    // The host: a developer's own server on 5432, and docker-proxy on 15432 with two clients.
    tcp('127.0.0.1:5432', null, { inode: 1 }),
    tcp('0.0.0.0:15432', null, { inode: 2, pid: 900, processName: 'docker-proxy' }),
    tcp('127.0.0.1:15432', '127.0.0.1:40001', { inode: 3, pid: 900 }),
    tcp('127.0.0.1:15432', '127.0.0.1:40002', { inode: 4, pid: 900 }),
    // The container: postgres on 5432, with the proxy's two connections arriving from the bridge.
    tcp('0.0.0.0:5432', null, { inode: 10, ...inside }),
    tcp('172.17.0.2:5432', '172.17.0.1:50001', { inode: 11, ...inside }),
    tcp('172.17.0.2:5432', '172.17.0.1:50002', { inode: 12, ...inside }),
  ];

  it('keeps one port in two namespaces as two groups, the host first, each counting its own connections', () => {
    const groups = listenerGroups(sockets, [published]);
    expect(groups.map((g) => [g.id, g.namespace, g.connections])).toEqual([
      ['tcp:5432', 'host', 0],
      ['tcp:15432', 'host', 2],
      [`tcp:5432@${inside.netns}`, 'db', 2],
    ]);
    expect(groups[1].forwardsTo).toEqual([published]);
    expect(groups[2].publishedAs).toEqual([published]);
    expect(groups[0].publishedAs).toEqual([]); // the host's own 5432 is not the container's
  });

  it("follows a container port's fan-out back to the host port and its clients, and the host port forward", () => {
    const container = fanOut(sockets, 'tcp', 5432, inside.netns, [published]);
    expect(container.total).toBe(2);
    expect(container.peers.map((p) => p.host)).toEqual(['172.17.0.1']);
    expect(container.from).toEqual([{ published, groupId: 'tcp:15432', connections: 2 }]);
    const host = fanOut(sockets, 'tcp', 15432, null, [published]);
    expect(host.to).toEqual([{ published, groupId: `tcp:5432@${inside.netns}`, connections: 2 }]);
    // The host's own 5432 has neither: nothing is published into the host.
    expect(fanOut(sockets, 'tcp', 5432, null, [published])).toMatchObject({ total: 0, from: [], to: [] });
  });
});

describe('fan-out picture', () => {
  it('groups peers by host, and a local peer by the process at the other end; folds the smallest groups', () => {
    const listener = tcp('0.0.0.0:3000', null, { pid: 1, pids: [1], processName: 'api', inode: 1 });
    const sockets: Socket[] = [listener];
    // Two local clients (processes 20 and 30) and remote hosts 10.0.0.1..5.
    const local = (port: number, pid: number) => {
      sockets.push(tcp('127.0.0.1:3000', `127.0.0.1:${port}`, { pid: 1, pids: [1], inode: 100 + port }));
      sockets.push(
        tcp(`127.0.0.1:${port}`, '127.0.0.1:3000', {
          pid,
          pids: [pid],
          processName: `client${pid}`,
          inode: 200 + port,
        }),
      );
    };
    local(40001, 20);
    local(40002, 20);
    local(40003, 30);
    for (let h = 1; h <= 5; h++)
      for (let i = 0; i < h; i++)
        sockets.push(
          tcp('10.0.0.100:3000', `10.0.0.${h}:${50000 + i}`, {
            pid: 1,
            pids: [1],
            inode: 1000 + h * 10 + i,
            state: i === 0 && h === 5 ? 'CLOSE_WAIT' : 'ESTABLISHED',
          }),
        );
    const picture = fanoutPicture(fanOut(sockets, 'tcp', 3000), otherEndFinder(sockets), 4);
    expect(picture.owners).toEqual(['api (1)']);
    expect(picture.groups.map((g) => `${g.host} ${g.process ?? '-'} ${g.count}`)).toEqual([
      '10.0.0.5 - 5',
      '10.0.0.4 - 4',
      '10.0.0.3 - 3',
    ]);
    expect(picture.groups[0].dominant).toBe('ESTABLISHED');
    // Folded: 10.0.0.2 (2), 10.0.0.1 (1), the local client 20 (2) and 30 (1).
    expect(picture.folded).toEqual({ groups: 4, sockets: 6, live: 6 });
    expect(picture.largest).toBe(6);
    expect(picture.largestRate).toBe(0); // no traffic figures: widths by connections only
    const all = fanoutPicture(fanOut(sockets, 'tcp', 3000), otherEndFinder(sockets), 20);
    expect(all.groups.find((g) => g.process === 'client20 (20)')).toMatchObject({ host: '127.0.0.1', count: 2 });
    expect(all.groups.find((g) => g.process === 'client30 (30)')?.tuples).toEqual([
      '127.0.0.1:40003 → 127.0.0.1:3000 ESTABLISHED',
    ]);
  });

  it('draws live peers first and sizes edges by live connections, not by what TIME_WAIT left', () => {
    const sockets: Socket[] = [tcp('0.0.0.0:3000', null, { pid: 1, pids: [1], inode: 1, state: 'LISTEN' })];
    for (let i = 0; i < 30; i++)
      sockets.push(
        tcp('10.0.0.100:3000', `10.0.0.9:${50000 + i}`, { pid: null, pids: [], inode: 0, state: 'TIME_WAIT' }),
      );
    for (let i = 0; i < 4; i++)
      sockets.push(tcp('10.0.0.100:3000', `10.0.0.7:${40000 + i}`, { pid: 1, pids: [1], inode: 10 + i }));
    const picture = fanoutPicture(fanOut(sockets, 'tcp', 3000), otherEndFinder(sockets));
    expect(picture.groups.map((g) => `${g.host} ${g.live}/${g.count}`)).toEqual(['10.0.0.7 4/4', '10.0.0.9 0/30']);
    expect(picture.largest).toBe(4);
  });
});

describe('machine map', () => {
  it('links processes to their ports and ports to their peers, a local peer by its process; filters and bounds', () => {
    const sockets: Socket[] = [
      tcp('0.0.0.0:3000', null, { pid: 1, pids: [1], processName: 'api', inode: 1 }),
      tcp('127.0.0.1:5432', null, { pid: 2, pids: [2], processName: 'postgres', inode: 2 }),
      // api connects to postgres twice: the peer of port 5432 is the api process.
      tcp('127.0.0.1:40001', '127.0.0.1:5432', { pid: 1, pids: [1], processName: 'api', inode: 11 }),
      tcp('127.0.0.1:5432', '127.0.0.1:40001', { pid: 2, pids: [2], processName: 'postgres', inode: 12 }),
      tcp('127.0.0.1:40002', '127.0.0.1:5432', { pid: 1, pids: [1], processName: 'api', inode: 13 }),
      tcp('127.0.0.1:5432', '127.0.0.1:40002', { pid: 2, pids: [2], processName: 'postgres', inode: 14 }),
      // A remote client of the api.
      tcp('10.0.0.5:3000', '10.0.0.9:50000', { pid: 1, pids: [1], processName: 'api', inode: 21 }),
    ];
    // A port reused while an old connection of it waits in TIME_WAIT with another peer: not the peer.
    sockets.push(
      tcp('127.0.0.1:40001', '127.0.0.1:9999', {
        state: 'TIME_WAIT',
        pid: null,
        pids: [],
        processName: null,
        inode: 0,
      }),
    );
    // An ended connection whose local port is now a listener's (a client's once): not the port's.
    sockets.push(
      tcp('127.0.0.1:5432', '127.0.0.1:7777', { state: 'TIME_WAIT', pid: null, pids: [], processName: null, inode: 0 }),
    );
    const map = machineMap(sockets);
    expect(map.ports.map((p) => `${p.label} ${p.weight}`)).toEqual(['tcp 5432 2', 'tcp 3000 1']);
    expect(map.peers.map((p) => `${p.id} ${p.weight}`)).toEqual(['peer:api (1) 2', 'host:10.0.0.9 1']);
    expect(map.processes.map((p) => p.label)).toEqual(['api (1)', 'postgres (2)']);
    expect(map.edges).toContainEqual({ from: 'tcp:5432', to: 'peer:api (1)', count: 2 });
    expect(map.edges).toContainEqual({ from: 'process:postgres (2)', to: 'tcp:5432', count: 1 });
    // Filtered: a port by its owner's name; a port by its peer's.
    expect(machineMap(sockets, ['postgres']).ports.map((p) => p.id)).toEqual(['tcp:5432']);
    expect(machineMap(sockets, ['10.0.0.9']).ports.map((p) => p.id)).toEqual(['tcp:3000']);
    // Bounded: the quieter port is left out and counted.
    expect(machineMap(sockets, [], 1)).toMatchObject({ hiddenPorts: 1, ports: [{ id: 'tcp:5432' }] });
  });
});

describe('service names', () => {
  it('names registered ports as services(5) does, and nothing else', () => {
    expect(serviceName('tcp', 5432)).toBe('postgresql');
    expect(serviceName('tcp', 6379)).toBe('redis');
    expect(serviceName('udp', 53)).toBe('domain');
    expect(serviceName('tcp', 51234)).toBeNull();
    expect(serviceName('unix', null)).toBeNull();
  });
});
