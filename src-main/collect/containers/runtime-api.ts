// Container names, images and published ports from the runtime's own API: Docker Engine's
// `GET /containers/json`, which Podman's compatible API answers too, over their Unix sockets.
// Read-only, one call, a short timeout, a size cap, and a cache: Porthole never waits on a runtime
// for longer than a poll can spare, and an absent or hung daemon only costs the names.

import { readdirSync, statSync } from 'node:fs';
import type { PublishedPort } from '../../shared/contract';

export type RuntimeName = 'docker' | 'podman';

export interface RuntimeContainer {
  /** The full 64-digit id. */
  id: string;
  runtime: RuntimeName;
  name: string | null;
  image: string | null;
  /** Kubernetes labels, when the kubelet ran it through this runtime. */
  pod: string | null;
  podNamespace: string | null;
  /** The container's addresses on its networks. */
  addresses: string[];
  /** Its published ports; `netns` is filled in by whoever knows the namespaces. */
  ports: PublishedPort[];
}

export interface RuntimeSocket {
  path: string;
  runtime: RuntimeName;
}

/** The system-wide sockets; each is asked, and every container it lists is named. */
export const RUNTIME_SOCKETS: RuntimeSocket[] = [
  { path: '/var/run/docker.sock', runtime: 'docker' },
  { path: '/run/podman/podman.sock', runtime: 'podman' },
];
/** Rootless Podman: one API socket per user, whose ports its rootlessport process forwards. */
const MAX_USER_SOCKETS = 64;

/** The system-wide sockets and each user's rootless Podman socket under /run/user. */
export function runtimeSockets(runUser = '/run/user'): RuntimeSocket[] {
  const sockets = [...RUNTIME_SOCKETS];
  let uids: string[] = [];
  try {
    uids = readdirSync(runUser).filter((name) => /^\d+$/.test(name));
  } catch {
    // no per-user runtime directories here
  }
  for (const uid of uids.slice(0, MAX_USER_SOCKETS))
    sockets.push({ path: `${runUser}/${uid}/podman/podman.sock`, runtime: 'podman' });
  return sockets;
}

/** A list of a thousand containers is ~2 MB: more than this is refused, not buffered. */
const MAX_RESPONSE_BYTES = 8 << 20;
export const API_TIMEOUT_MS = 1_000;
/** Names are asked for again after this long, or sooner when an unknown container appears. */
const CACHE_MS = 10_000;
/** …but never more often than this, whatever appears: a hung daemon is asked once per interval. */
const MIN_INTERVAL_MS = 2_000;

const str = (value: unknown, max = 512): string | null =>
  typeof value === 'string' && value.length > 0 && value.length <= max ? value : null;

function portNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 && value <= 65535 ? value : null;
}

/**
 * The containers in a `/containers/json` answer. Untrusted input: entries that are not shaped like
 * a container are skipped, fields that are not the expected type are left out.
 */
export function parseContainerList(json: unknown, runtime: RuntimeName): RuntimeContainer[] {
  if (!Array.isArray(json)) return [];
  const containers: RuntimeContainer[] = [];
  for (const entry of json.slice(0, 10_000)) {
    if (!entry || typeof entry !== 'object') continue;
    const e = entry as Record<string, unknown>;
    const id = str(e.Id, 64);
    if (!id || !/^[0-9a-f]{64}$/.test(id)) continue;
    const names = Array.isArray(e.Names) ? e.Names : [];
    const name = str(names[0], 256)?.replace(/^\//, '') ?? null;
    const labels = e.Labels && typeof e.Labels === 'object' ? (e.Labels as Record<string, unknown>) : {};
    const addresses: string[] = [];
    const networks = (e.NetworkSettings as { Networks?: unknown } | undefined)?.Networks;
    if (networks && typeof networks === 'object')
      for (const network of Object.values(networks as Record<string, unknown>)) {
        const n = network as Record<string, unknown> | null;
        for (const address of [str(n?.IPAddress, 64), str(n?.GlobalIPv6Address, 64)])
          if (address && !addresses.includes(address)) addresses.push(address);
      }
    const container: RuntimeContainer = {
      id,
      runtime,
      name,
      image: str(e.Image, 512),
      pod: str(labels['io.kubernetes.pod.name'], 253),
      podNamespace: str(labels['io.kubernetes.pod.namespace'], 253),
      addresses,
      ports: [],
    };
    for (const port of Array.isArray(e.Ports) ? e.Ports : []) {
      const p = port as Record<string, unknown> | null;
      const hostPort = portNumber(p?.PublicPort);
      const inner = portNumber(p?.PrivatePort);
      const protocol = p?.Type === 'udp' ? 'udp' : p?.Type === 'tcp' ? 'tcp' : null;
      if (!hostPort || !inner || !protocol) continue; // exposed, not published
      container.ports.push({
        protocol,
        hostAddress: str(p?.IP, 64) ?? '0.0.0.0',
        hostPort,
        netns: null,
        address: addresses.find((a) => !a.includes(':')) ?? addresses[0] ?? null,
        port: inner,
        container: {
          runtime,
          id: id.slice(0, 12),
          ...(name ? { name } : {}),
          ...(container.image ? { image: container.image } : {}),
        },
        via: runtime,
      });
    }
    containers.push(container);
  }
  return containers;
}

/** One GET over a Unix socket; rejects on timeout, a non-200 answer, or an answer too large. */
export function getJson(socketPath: string, path: string, timeoutMs = API_TIMEOUT_MS): Promise<unknown> {
  // node:http is required on the first question, not when the collector loads (`who` never asks).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { request } = require('node:http') as typeof import('node:http');
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', headers: { Host: 'localhost' } }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`${path} answered ${res.statusCode}`));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_RESPONSE_BYTES) {
          req.destroy(new Error(`${path} answered more than ${MAX_RESPONSE_BYTES} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        } catch {
          reject(new Error(`${path} answered something that is not JSON`));
        }
      });
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`${path} did not answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function isSocket(path: string): boolean {
  try {
    return statSync(path).isSocket();
  } catch {
    return false;
  }
}

/**
 * The runtimes' containers by full id, refreshed in the background of polls: `lookup` answers from
 * the cache at once, `refresh` asks the runtimes when the cache is old or an id is unknown.
 */
export class ContainerDirectory {
  private byId = new Map<string, RuntimeContainer>();
  private askedAt = -Infinity;
  private pending: Promise<void> | null = null;
  /** Why the last ask failed, per socket (without it, a container is named by its id). */
  lastErrors: string[] = [];

  constructor(
    private readonly sockets: () => RuntimeSocket[] = runtimeSockets,
    private readonly now: () => number = () => performance.now(),
  ) {}

  lookup(fullId: string): RuntimeContainer | undefined {
    return this.byId.get(fullId);
  }

  all(): IterableIterator<RuntimeContainer> {
    return this.byId.values();
  }

  /** Whether a refresh is due, for these container ids seen now. */
  due(ids: Iterable<string>): boolean {
    const age = this.now() - this.askedAt;
    if (age < MIN_INTERVAL_MS) return false;
    if (age >= CACHE_MS) return this.sockets().some((s) => isSocket(s.path));
    for (const id of ids) if (!this.byId.has(id)) return this.sockets().some((s) => isSocket(s.path));
    return false;
  }

  /** Asks every present runtime socket once; never rejects. Concurrent calls share one ask. */
  refresh(): Promise<void> {
    if (this.pending) return this.pending;
    this.askedAt = this.now();
    this.pending = (async () => {
      const byId = new Map<string, RuntimeContainer>();
      const errors: string[] = [];
      for (const { path, runtime } of this.sockets()) {
        if (!isSocket(path)) continue;
        try {
          for (const c of parseContainerList(await getJson(path, '/containers/json'), runtime)) byId.set(c.id, c);
        } catch (error) {
          errors.push(`${path}: ${(error as Error).message}`);
        }
      }
      this.byId = byId;
      this.lastErrors = errors;
    })().finally(() => {
      this.pending = null;
    });
    return this.pending;
  }
}
