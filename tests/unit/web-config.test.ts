// The exporter's web configuration (exporter-toolkit's format) and its basic auth: files named
// relative to the configuration, settings refused by name, and a password check that is bounded
// in CPU. The real exporter with TLS, htpasswd's hashes and a real Prometheus: tests/system/exporter.test.ts.
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { authenticates, BasicAuth, parseWebConfig, WebConfigError } from '../../src-main/web/web-config';

const basic = (credentials: string) => `Basic ${Buffer.from(credentials).toString('base64')}`;

describe('web configuration', () => {
  it('reads certificate files relative to its own folder', () => {
    const read: string[] = [];
    const config = parseWebConfig(
      'tls_server_config:\n  cert_file: tls/server.crt\n  key_file: /abs/server.key\n  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.crt\n  min_version: TLS13\n',
      '/etc/porthole/web.yml',
      (path) => (read.push(path), Buffer.from(path)),
    );
    expect(read).toEqual(['/etc/porthole/tls/server.crt', '/abs/server.key', '/etc/porthole/ca.crt']);
    expect(config.tls).toMatchObject({ clientAuth: 'RequireAndVerifyClientCert', minVersion: 'TLSv1.3' });
    expect(authenticates(config)).toBe(true);
    expect(authenticates(parseWebConfig('', '/x.yml', () => Buffer.alloc(0)))).toBe(false);
  });

  it('refuses a client check without its CA, and a malformed user', () => {
    const parse = (text: string) => () => parseWebConfig(text, '/x.yml', () => Buffer.alloc(0));
    expect(
      parse('tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n'),
    ).toThrow(/needs client_ca_file/);
    expect(parse('tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: Sometimes\n')).toThrow(
      WebConfigError,
    );
    expect(parse(`basic_auth_users:\n  "a:b": '${bcrypt.hashSync('x', 4)}'\n`)).toThrow(/without ":"/);
    expect(parse('- a list\n')).toThrow(/not a mapping/);
  });
});

describe('basic auth', () => {
  const hash = bcrypt.hashSync('s3cret', 4).replace(/^\$2b\$/, '$2y$'); // as htpasswd and Go write it
  const auth = () => new BasicAuth(new Map([['prometheus', hash]]));

  it('lets the right user and password in, and nothing else', async () => {
    const a = auth();
    expect(await a.check(basic('prometheus:s3cret'))).toBe('ok');
    expect(await a.check(basic('prometheus:s3cret'))).toBe('ok'); // remembered
    for (const header of [
      undefined,
      basic('prometheus:wrong'),
      basic('nobody:s3cret'),
      basic('no colon'),
      'Bearer x',
      `Basic ${'A'.repeat(2000)}`,
    ])
      expect(await a.check(header), String(header).slice(0, 30)).toBe('denied');
  });

  it('answers "busy" past a bounded number of checks at once, instead of queueing without bound', async () => {
    const a = auth();
    const verdicts = await Promise.all(Array.from({ length: 40 }, (_, i) => a.check(basic(`prometheus:guess-${i}`))));
    expect(verdicts.filter((v) => v === 'busy').length).toBeGreaterThan(0);
    expect(verdicts.filter((v) => v === 'denied').length).toBeGreaterThanOrEqual(2);
    expect(verdicts).not.toContain('ok');
    // Once the flood is over, the right password still gets in.
    expect(await a.check(basic('prometheus:s3cret'))).toBe('ok');
  });
});
