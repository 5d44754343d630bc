// The exporter's TLS and basic auth, from a web configuration file in the format of Prometheus's
// own exporter-toolkit (the `--web.config.file` of node_exporter and friends), so one file serves
// every exporter on a machine and `promtool check web-config` checks it:
//
//   tls_server_config: { cert_file, key_file, client_auth_type, client_ca_file, min_version }
//   basic_auth_users: { NAME: BCRYPT_HASH, … }
//
// Paths are relative to the file's folder, as exporter-toolkit reads them. A setting Porthole does
// not implement is refused by name, never ignored: a security setting silently dropped would serve
// with less than the file asks for.

import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import bcrypt from 'bcryptjs';
import { parse as parseYaml } from 'yaml';

export class WebConfigError extends Error {}

export type ClientAuth =
  'NoClientCert' | 'RequestClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';
const CLIENT_AUTH: readonly ClientAuth[] = [
  'NoClientCert',
  'RequestClientCert',
  'VerifyClientCertIfGiven',
  'RequireAndVerifyClientCert',
];
const TLS_VERSIONS = { TLS12: 'TLSv1.2', TLS13: 'TLSv1.3' } as const;

export interface WebConfig {
  tls: {
    cert: Buffer;
    key: Buffer;
    /** CAs a client certificate must chain to; null when client certificates are not checked. */
    clientCa: Buffer | null;
    clientAuth: ClientAuth;
    minVersion: 'TLSv1.2' | 'TLSv1.3';
  } | null;
  /** User name → bcrypt hash; empty: no basic auth. */
  users: Map<string, string>;
}

/** Whether a request must prove who it is (a password, or a verified client certificate). */
export function authenticates(config: WebConfig): boolean {
  return config.users.size > 0 || config.tls?.clientAuth === 'RequireAndVerifyClientCert';
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function only(value: Json, where: string, allowed: readonly string[]): void {
  for (const key of Object.keys(value))
    if (!allowed.includes(key))
      throw new WebConfigError(`${where}.${key} is not a setting Porthole implements (it takes ${allowed.join(', ')})`);
}

/**
 * @param text the file's contents
 * @param path the file's path (relative paths inside it are from its folder)
 * @param readFile reads a certificate or key file (bounded, regular files only: the CLI's reader)
 */
export function parseWebConfig(text: string, path: string, readFile: (path: string) => Buffer): WebConfig {
  let document: unknown;
  try {
    // No aliases: a YAML "billion laughs" file expands nothing. Unknown tags stay plain values, unsaid.
    document = parseYaml(text, { maxAliasCount: 0, prettyErrors: false, logLevel: 'error' });
  } catch (error) {
    throw new WebConfigError(`it is not YAML (${(error as Error).message.split('\n')[0].slice(0, 120)})`);
  }
  if (document === null || document === undefined) document = {};
  if (!isObject(document)) throw new WebConfigError('it is not a mapping of settings');
  only(document, 'the file', ['tls_server_config', 'basic_auth_users']);
  const folder = dirname(resolve(path));
  const file = (value: unknown, where: string): Buffer => {
    if (typeof value !== 'string' || value === '') throw new WebConfigError(`${where} must name a file`);
    try {
      return readFile(resolve(folder, value));
    } catch (error) {
      throw new WebConfigError(`${where}: ${(error as Error).message}`);
    }
  };
  let tls: WebConfig['tls'] = null;
  if (document.tls_server_config !== undefined && document.tls_server_config !== null) {
    const t = document.tls_server_config;
    if (!isObject(t)) throw new WebConfigError('tls_server_config must be a mapping');
    only(t, 'tls_server_config', ['cert_file', 'key_file', 'client_auth_type', 'client_ca_file', 'min_version']);
    const clientAuth = (t.client_auth_type ?? 'NoClientCert') as ClientAuth;
    if (!CLIENT_AUTH.includes(clientAuth))
      throw new WebConfigError(`tls_server_config.client_auth_type is one of ${CLIENT_AUTH.join(', ')}`);
    const minVersion = t.min_version ?? 'TLS12';
    if (typeof minVersion !== 'string' || !(minVersion in TLS_VERSIONS))
      throw new WebConfigError('tls_server_config.min_version is TLS12 or TLS13 (older versions are refused)');
    const verifies = clientAuth === 'VerifyClientCertIfGiven' || clientAuth === 'RequireAndVerifyClientCert';
    if (verifies && t.client_ca_file === undefined)
      throw new WebConfigError(`tls_server_config.client_auth_type ${clientAuth} needs client_ca_file`);
    tls = {
      cert: file(t.cert_file, 'tls_server_config.cert_file'),
      key: file(t.key_file, 'tls_server_config.key_file'),
      clientCa: t.client_ca_file === undefined ? null : file(t.client_ca_file, 'tls_server_config.client_ca_file'),
      clientAuth,
      minVersion: TLS_VERSIONS[minVersion as keyof typeof TLS_VERSIONS],
    };
  }
  const users = new Map<string, string>();
  if (document.basic_auth_users !== undefined && document.basic_auth_users !== null) {
    const u = document.basic_auth_users;
    if (!isObject(u)) throw new WebConfigError('basic_auth_users must map user names to bcrypt hashes');
    for (const [name, hash] of Object.entries(u)) {
      if (name === '' || name.includes(':') || name.length > 256)
        throw new WebConfigError('basic_auth_users: a user name is 1-256 characters without ":"');
      if (typeof hash !== 'string' || !/^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/.test(hash))
        throw new WebConfigError(`basic_auth_users: the hash of user ${users.size + 1} is not a bcrypt hash`);
      users.set(name, hash);
    }
  }
  return { tls, users };
}

/** Checks a password against a bcrypt hash; Go's and htpasswd's `$2y$` is the same algorithm as `$2b$`. */
const checkHash = (password: string, hash: string) => bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));

/** bcrypt checks running at once; a scraper needs one. More wait their turn, up to the queue's bound. */
const CHECKS_AT_ONCE = 2;
const CHECKS_WAITING = 16;
/** Credentials proven right, remembered so a scrape every few seconds costs a bcrypt check once. */
const REMEMBERED = 64;

/**
 * Basic auth over a config's users: constant time in the user name (an unknown user costs a bcrypt
 * check too), bounded in CPU (a few checks at once, a bounded queue; a flood is told "busy"), and
 * quick for a scraper that keeps sending the same right credentials.
 */
export class BasicAuth {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly proven = new Map<string, true>();
  /** A hash to check unknown users against, so that they take as long as known ones. */
  private readonly decoy = bcrypt.hashSync('porthole decoy', 10);

  constructor(private readonly users: ReadonlyMap<string, string>) {}

  /** 'ok', 'denied', or 'busy' (too many checks waiting: answered 503, try again). */
  async check(header: string | undefined): Promise<'ok' | 'denied' | 'busy'> {
    const match = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(header ?? '');
    if (!match) return 'denied';
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) return 'denied';
    const user = decoded.slice(0, colon);
    const password = decoded.slice(colon + 1);
    const hash = this.users.get(user);
    const key = createHash('sha256')
      .update(`${user}\0${password}\0${hash ?? ''}`)
      .digest('base64');
    if (hash !== undefined && this.proven.has(key)) return 'ok';
    if (this.running >= CHECKS_AT_ONCE) {
      if (this.waiting.length >= CHECKS_WAITING) return 'busy';
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      const right = await checkHash(password, hash ?? this.decoy);
      if (!right || hash === undefined) return 'denied';
      if (this.proven.size >= REMEMBERED) this.proven.delete(this.proven.keys().next().value!);
      this.proven.set(key, true);
      return 'ok';
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
