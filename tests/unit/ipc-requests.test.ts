// A refused request says which field and what it must be, never the value it was sent (a hostile
// page's text goes no further than the check).
import { describe, expect, it } from 'vitest';
import { MAX_NAMES_ASKED, parseRendererRequest } from '../../src-main/shared/ipc';

const reason = (value: unknown) => {
  const parsed = parseRendererRequest(value);
  expect(parsed.ok).toBe(false);
  return parsed.ok ? '' : parsed.reason;
};

describe('renderer requests', () => {
  it('name the field and what it must be', () => {
    expect(reason({ type: 'kill', id: 1, pid: 1, startedAt: 'x', force: true })).toBe('kill.pid must be >=2');
    expect(reason({ type: 'kill', id: 1, pid: 5, startedAt: 'x' })).toBe('kill needs force');
    expect(reason({ type: 'interval', ms: 1 })).toBe('interval.ms must be whole milliseconds from 250 to 10000');
    expect(reason({ type: 'visibility', visible: 'no' })).toBe('visibility.visible must be boolean');
    expect(reason({ type: 'names', id: 1, addresses: ['127.0.0.1', 'evil.example'] })).toBe(
      'names.addresses.1 must be an IPv4 or IPv6 literal',
    );
    expect(reason({ type: 'names', id: 1, addresses: Array(MAX_NAMES_ASKED + 1).fill('::1') })).toMatch(
      /^names\.addresses must be /,
    );
    expect(parseRendererRequest({ type: 'names', id: 1, addresses: ['::1', '10.0.0.1'] }).ok).toBe(true);
    expect(reason({ type: 'save', id: 1, name: 'a/b', text: '' })).toBe(
      'save.name must be a file name without folders',
    );
  });

  it('refuse unknown fields, own __proto__ keys and unknown types without quoting them', () => {
    const hostile = '<img src=x onerror=alert(1)>';
    expect(reason({ type: 'ack', [hostile]: 1 })).toBe('ack has a field it does not take');
    expect(reason(JSON.parse('{"type":"ack","__proto__":{"x":1}}'))).toBe('ack has a field it does not take');
    expect(reason({ type: hostile })).toBe('unknown request type');
    expect(
      reason({ type: 'close', id: 1, localAddress: hostile, localPort: 1, remoteAddress: '::1', remotePort: 2 }),
    ).toBe('close.localAddress must be an IPv4 or IPv6 literal');
    expect(reason([{ type: 'subscribe' }])).toBe('a request is an object');
  });

  it('give back exactly the declared fields', () => {
    expect(parseRendererRequest({ type: 'ack' })).toEqual({ ok: true, request: { type: 'ack' } });
    expect(parseRendererRequest({ type: 'resync', host: 'beta' })).toEqual({
      ok: true,
      request: { type: 'resync', host: 'beta' },
    });
    expect(parseRendererRequest({ type: 'interval', ms: 250 })).toEqual({
      ok: true,
      request: { type: 'interval', ms: 250 },
    });
  });
});
