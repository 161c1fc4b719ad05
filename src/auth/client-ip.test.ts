import { describe, expect, it } from 'vitest';
import { TrustProxyError, UNKNOWN_CLIENT, compileTrustProxy, isForwardedHttps, resolveClientIp } from './client-ip.js';

const PROXY = '10.0.0.5';
const PROXY2 = '10.0.0.6';

describe('client address without trustProxy (the default)', () => {
  it('is the socket address, whatever X-Forwarded-For says', () => {
    expect(resolveClientIp('203.0.113.9', { 'x-forwarded-for': '127.0.0.1' })).toBe('203.0.113.9');
    expect(resolveClientIp('203.0.113.9', { 'x-forwarded-for': '10.0.0.1, 127.0.0.1' }, false)).toBe('203.0.113.9');
    expect(resolveClientIp('203.0.113.9', { 'x-forwarded-for': '127.0.0.1' }, 0)).toBe('203.0.113.9');
  });

  it('normalises IPv4-mapped socket addresses and compresses IPv6', () => {
    expect(resolveClientIp('::ffff:198.51.100.4', {})).toBe('198.51.100.4');
    expect(resolveClientIp('2001:0db8:0:0:0:0:0:0001', {})).toBe('2001:db8::1');
  });

  it('is unknown when the socket has no address', () => {
    expect(resolveClientIp(undefined, {})).toBe(UNKNOWN_CLIENT);
  });
});

describe('client address with trusted proxy CIDRs', () => {
  const trust = compileTrustProxy(['10.0.0.0/24']);

  it('takes the rightmost untrusted address, not the leftmost', () => {
    // The client forged "1.1.1.1"; our proxy appended the real peer 203.0.113.9.
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '1.1.1.1, 203.0.113.9' })).toBe('203.0.113.9');
  });

  it('walks over several trusted proxies', () => {
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '6.6.6.6, 203.0.113.9, 10.0.0.7, 10.0.0.8' })).toBe('203.0.113.9');
  });

  it('cannot be fooled by a forged address inside the trusted range', () => {
    // The attacker claims to be a proxy (10.0.0.9) to push "8.8.8.8" as the client; the real
    // peer 203.0.113.9 appended by our proxy is untrusted, so the walk stops there.
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '8.8.8.8, 10.0.0.9, 203.0.113.9' })).toBe('203.0.113.9');
  });

  it('ignores X-Forwarded-For when the socket peer is not a trusted proxy', () => {
    expect(trust.clientIp('203.0.113.9', { 'x-forwarded-for': '10.0.0.1' })).toBe('203.0.113.9');
  });

  it('uses the socket address when a trusted proxy sent no X-Forwarded-For', () => {
    expect(trust.clientIp(PROXY, {})).toBe(PROXY);
  });

  it('uses the leftmost address when every hop is trusted', () => {
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '10.0.0.1, 10.0.0.2' })).toBe('10.0.0.1');
  });

  it('joins repeated headers and accepts IPv6, brackets and ports', () => {
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': ['9.9.9.9', '2001:db8::7'] })).toBe('2001:db8::7');
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '[2001:db8::7]:4711' })).toBe('2001:db8::7');
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '203.0.113.9:4711' })).toBe('203.0.113.9');
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '::ffff:203.0.113.9' })).toBe('203.0.113.9');
  });

  it('refuses garbage at the position it would have to believe (unknown, never a guess)', () => {
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': 'evil<script>' })).toBe(UNKNOWN_CLIENT);
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '1.2.3.4, unknown' })).toBe(UNKNOWN_CLIENT);
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': '010.0.0.1' })).toBe(UNKNOWN_CLIENT);
  });

  it('garbage left of the client is never read', () => {
    expect(trust.clientIp(PROXY, { 'x-forwarded-for': 'garbage, 203.0.113.9' })).toBe('203.0.113.9');
  });

  it('accepts IPv4-mapped proxy socket addresses', () => {
    expect(trust.clientIp('::ffff:10.0.0.5', { 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
  });

  it('supports presets and comma-separated strings', () => {
    const t = compileTrustProxy('loopback, 10.0.0.0/24');
    expect(t.clientIp('127.0.0.1', { 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
    expect(t.clientIp('::1', { 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
    expect(t.clientIp(PROXY, { 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
    expect(t.clientIp('192.168.1.1', { 'x-forwarded-for': '203.0.113.9' })).toBe('192.168.1.1');
    expect(compileTrustProxy(['private']).clientIp('192.168.1.1', { 'x-forwarded-for': '203.0.113.9' })).toBe('203.0.113.9');
  });
});

describe('client address with a hop count', () => {
  it('one proxy: the rightmost entry is the client, the spoofed left part is ignored', () => {
    expect(resolveClientIp(PROXY, { 'x-forwarded-for': '127.0.0.1, 203.0.113.9' }, 1)).toBe('203.0.113.9');
  });

  it('two proxies: skips one entry', () => {
    expect(resolveClientIp(PROXY, { 'x-forwarded-for': '127.0.0.1, 203.0.113.9, 10.0.0.6' }, 2)).toBe('203.0.113.9');
  });

  it('fewer entries than hops: the leftmost available address', () => {
    expect(resolveClientIp(PROXY, { 'x-forwarded-for': '203.0.113.9' }, 3)).toBe('203.0.113.9');
    expect(resolveClientIp(PROXY, {}, 1)).toBe(PROXY);
  });
});

describe('trustProxy validation', () => {
  it('refuses true, bad counts and bad CIDRs with clear messages', () => {
    expect(() => compileTrustProxy(true)).toThrow(TrustProxyError);
    expect(() => compileTrustProxy(true)).toThrow(/number of proxies/);
    expect(() => compileTrustProxy(-1)).toThrow(/hop count/);
    expect(() => compileTrustProxy(1.5)).toThrow(/hop count/);
    expect(() => compileTrustProxy(['10.0.0.0/8', '10.0.0.0/99'])).toThrow(/trustProxy\[1\]: "10\.0\.0\.0\/99"/);
    expect(() => compileTrustProxy(['proxy.example.com'])).toThrow(/trustProxy\[0\]/);
  });

  it('treats an empty list like no trust', () => {
    expect(compileTrustProxy([]).enabled).toBe(false);
    expect(compileTrustProxy('').enabled).toBe(false);
  });
});

describe('isForwardedHttps', () => {
  const cidrs = ['10.0.0.0/24'];

  it('is true only for X-Forwarded-Proto: https from a trusted proxy', () => {
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https' }, PROXY, cidrs)).toBe(true);
    expect(isForwardedHttps({ 'x-forwarded-proto': 'HTTPS' }, PROXY2, cidrs)).toBe(true);
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https' }, PROXY, 1)).toBe(true);
  });

  it('a client cannot claim https by sending the header itself', () => {
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https' }, '203.0.113.9', cidrs)).toBe(false);
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https' }, '203.0.113.9')).toBe(false);
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https' }, '127.0.0.1', false)).toBe(false);
  });

  it('is false for http, a missing header, or any http in an appended list', () => {
    expect(isForwardedHttps({ 'x-forwarded-proto': 'http' }, PROXY, cidrs)).toBe(false);
    expect(isForwardedHttps({}, PROXY, cidrs)).toBe(false);
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https, http' }, PROXY, cidrs)).toBe(false);
    expect(isForwardedHttps({ 'x-forwarded-proto': ['https', 'http'] }, PROXY, cidrs)).toBe(false);
    expect(isForwardedHttps({ 'x-forwarded-proto': 'httpsx' }, PROXY, cidrs)).toBe(false);
  });

  it('accepts an https chain through several proxies', () => {
    expect(isForwardedHttps({ 'x-forwarded-proto': 'https, https' }, PROXY, cidrs)).toBe(true);
  });
});
