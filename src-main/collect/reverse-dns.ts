// Names for remote addresses, as TCPView and Sniffnet show them: asked of the system's resolver
// (getnameinfo, which reads /etc/hosts and then DNS) or of the hosts file alone, off the poll's path,
// cached with a bound and a lifetime. A viewer asks for the addresses it shows; nothing waits on it.

// fs.promises, not node:fs/promises: read on the first lookup, not when the collectors load.
import { promises as fsPromises } from 'node:fs';
import { isIP } from 'node:net';
import { REVERSE_DNS_MODES, type ReverseDnsMode } from '../shared/contract';

/** The mode named by PORTHOLE_REVERSE_DNS (a host's default), 'on' when unset or unknown. */
export function reverseDnsModeFrom(value: string | undefined): ReverseDnsMode {
  return (REVERSE_DNS_MODES as readonly string[]).includes(value ?? '') ? (value as ReverseDnsMode) : 'on';
}

/** How long a found name is believed: a DNS record's typical lifetime, and short enough to follow changes. */
export const NAME_TTL_MS = 10 * 60_000;
/** How long "no name" is believed before asking again. */
export const NO_NAME_TTL_MS = 60_000;
/** Addresses remembered at most; the least recently asked go first. A busy desktop talks to hundreds. */
export const MAX_CACHED_NAMES = 4096;
/**
 * Lookups in flight at once. getnameinfo blocks a thread of libuv's pool (four by default), which
 * file reads share: two leave the others free.
 */
export const MAX_LOOKUPS_IN_FLIGHT = 2;
/** Lookups waiting for a thread at most; past it an address is answered "not yet" and asked again later. */
export const MAX_WAITING_LOOKUPS = 512;
/** A lookup slower than this is answered "no name" (it finishes in the background, into the cache). */
export const LOOKUP_TIMEOUT_MS = 2000;
/** A hosts file larger than this is not read (a real one is a few kilobytes). */
const MAX_HOSTS_FILE_BYTES = 1024 * 1024;
/** The longest name kept (DNS's own limit). */
const MAX_NAME_LENGTH = 253;
const HOSTNAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;

type Lookup = (address: string) => Promise<string | null>;

/** The system resolver's name for an address, or null when it has none. */
const systemLookup: Lookup = (address) => {
  // Required on the first lookup: the collectors load this module, and most commands never name hosts.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { lookupService } = require('node:dns') as typeof import('node:dns');
  return new Promise((resolve) => lookupService(address, 0, (error, hostname) => resolve(error ? null : hostname)));
};

/** A name to show: a hostname (never the address itself echoed back, never text that is not a name). */
function cleanName(name: string | null, address: string): string | null {
  if (name === null || name === address || name.length > MAX_NAME_LENGTH || !HOSTNAME.test(name)) return null;
  return name.toLowerCase();
}

/** The first name each address has in a hosts file's text (as getnameinfo answers). */
export function parseHostsFile(text: string): Map<string, string> {
  const names = new Map<string, string>();
  for (const line of text.split('\n')) {
    const fields = line.replace(/#.*/, '').trim().split(/\s+/);
    if (fields.length < 2 || isIP(fields[0]) === 0) continue;
    const address = fields[0].toLowerCase();
    if (!names.has(address)) names.set(address, fields[1]);
  }
  return names;
}

/** Reads a hosts file again only when it changed. */
function hostsFileLookup(path: string): Lookup {
  let cached: { mtimeMs: number; size: number; names: Map<string, string> } | null = null;
  return async (address) => {
    try {
      const info = await fsPromises.stat(path);
      if (info.size > MAX_HOSTS_FILE_BYTES) return null;
      if (!cached || cached.mtimeMs !== info.mtimeMs || cached.size !== info.size)
        cached = {
          mtimeMs: info.mtimeMs,
          size: info.size,
          names: parseHostsFile(await fsPromises.readFile(path, 'utf8')),
        };
      return cached.names.get(address.toLowerCase()) ?? null;
    } catch {
      return null;
    }
  };
}

/** Addresses that name no host: nothing to look up. */
function unnamed(address: string): boolean {
  return address === '0.0.0.0' || address === '::' || isIP(address) === 0;
}

interface Entry {
  name: string | null;
  expires: number;
}

export interface ReverseNamesOptions {
  mode: ReverseDnsMode;
  /** The hosts file of mode 'hosts' (default /etc/hosts). */
  hostsFile?: string;
  /** Replaces the system resolver (tests). */
  lookup?: Lookup;
  now?: () => number;
}

export class ReverseNames {
  /** Insertion order is recency: a hit moves its address to the end, the first is dropped first. */
  private readonly cache = new Map<string, Entry>();
  private readonly inFlight = new Map<string, Promise<string | null>>();
  private readonly waiting: (() => void)[] = [];
  private running = 0;
  private readonly lookup: Lookup;
  private readonly now: () => number;
  /** Addresses answered "not yet" because the waiting line was full. */
  deferred = 0;

  constructor(readonly options: ReverseNamesOptions) {
    this.lookup =
      options.lookup ?? (options.mode === 'hosts' ? hostsFileLookup(options.hostsFile ?? '/etc/hosts') : systemLookup);
    this.now = options.now ?? Date.now;
  }

  /**
   * The names of these addresses: a name, null for "has none", and absent for "not known yet" (the
   * lookup went on past LOOKUP_TIMEOUT_MS, or waits its turn: ask again later).
   */
  async resolve(addresses: readonly string[]): Promise<Record<string, string | null>> {
    const answer: Record<string, string | null> = Object.create(null);
    if (this.options.mode === 'off') return answer;
    const pending: Promise<void>[] = [];
    for (const address of new Set(addresses)) {
      if (unnamed(address)) {
        answer[address] = null;
        continue;
      }
      const known = this.cached(address);
      if (known !== undefined) {
        answer[address] = known;
        continue;
      }
      const lookup = this.start(address);
      if (lookup === null) continue;
      pending.push(
        Promise.race([lookup, delay(LOOKUP_TIMEOUT_MS)]).then((name) => {
          if (name !== undefined) answer[address] = name;
        }),
      );
    }
    await Promise.all(pending);
    return answer;
  }

  private cached(address: string): string | null | undefined {
    const entry = this.cache.get(address);
    if (entry === undefined) return undefined;
    this.cache.delete(address);
    if (entry.expires <= this.now()) return undefined;
    this.cache.set(address, entry);
    return entry.name;
  }

  /** The lookup of an address, shared by every request for it while it runs; null when the line is full. */
  private start(address: string): Promise<string | null> | null {
    const running = this.inFlight.get(address);
    if (running) return running;
    if (this.waiting.length >= MAX_WAITING_LOOKUPS) {
      this.deferred++;
      return null;
    }
    const lookup = this.turn()
      .then(() => this.lookup(address))
      .then((name) => cleanName(name, address))
      .catch(() => null)
      .then((name) => {
        this.store(address, name);
        return name;
      })
      .finally(() => {
        this.inFlight.delete(address);
        this.running--;
        this.waiting.shift()?.();
      });
    this.inFlight.set(address, lookup);
    return lookup;
  }

  /** Resolves when a lookup may run (at most MAX_LOOKUPS_IN_FLIGHT at once). */
  private turn(): Promise<void> {
    if (this.running < MAX_LOOKUPS_IN_FLIGHT) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((go) =>
      this.waiting.push(() => {
        this.running++;
        go();
      }),
    );
  }

  private store(address: string, name: string | null): void {
    this.cache.delete(address);
    this.cache.set(address, { name, expires: this.now() + (name === null ? NO_NAME_TTL_MS : NAME_TTL_MS) });
    while (this.cache.size > MAX_CACHED_NAMES) this.cache.delete(this.cache.keys().next().value!);
  }

  get size(): number {
    return this.cache.size;
  }
}

const delay = (ms: number) => new Promise<undefined>((done) => setTimeout(() => done(undefined), ms).unref());
