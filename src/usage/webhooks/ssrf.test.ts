/** SSRF rules and signatures: no database needed. */
import { describe, expect, it } from 'vitest';
import { isBlockedIp, parseIp } from './ip.js';
import { signPayload, verifyWebhookSignature } from './signature.js';
import { checkTarget, checkUrlShape, TargetRefused, type Resolver } from './ssrf.js';

const strict = { allowHttp: true }; // http allowed so only the address rules are under test

describe('SSRF target checks', () => {
  const refused = [
    '127.0.0.1',
    '127.255.0.9',
    '10.0.0.1',
    '172.16.0.1',
    '172.31.255.254',
    '192.168.1.1',
    '169.254.169.254',
    '0.0.0.0',
    '100.64.0.1',
    '[::1]',
    '[::]',
    '[fc00::1]',
    '[fd12:3456::1]',
    '[fe80::1]',
    '[::ffff:127.0.0.1]',
    '[::ffff:7f00:1]',
    '[::ffff:a9fe:a9fe]',
    '[0:0:0:0:0:ffff:10.0.0.1]',
    '[64:ff9b::a00:1]',
    '2130706433', // 127.0.0.1 as one number: the URL parser normalises it
    '0x7f.0.0.1',
  ];
  it.each(refused)('refuses %s', async (host) => {
    await expect(checkTarget(`http://${host}/hook`, strict)).rejects.toThrow(TargetRefused);
    expect(() => checkUrlShape(`http://${host}/hook`, strict)).toThrow(/private or reserved/);
  });

  it('refuses a hostname that resolves to loopback (localhost)', async () => {
    await expect(checkTarget('http://localhost:9/hook', strict)).rejects.toThrow(/resolves to a private or reserved address/);
  });

  it('refuses when any one of the answers is private', async () => {
    const resolve: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.1.1.1', family: 4 },
    ];
    await expect(checkTarget('https://mixed.example/hook', {}, resolve)).rejects.toThrow(/10\.1\.1\.1/);
  });

  it('allows public addresses and pins the first answer', async () => {
    const resolve: Resolver = async () => [{ address: '2606:2800:220:1::1', family: 6 }];
    await expect(checkTarget('https://ok.example/hook', {}, resolve)).resolves.toMatchObject({ address: '2606:2800:220:1::1', family: 6 });
    await expect(checkTarget('https://93.184.216.34/hook', {})).resolves.toMatchObject({ address: '93.184.216.34', family: 4 });
    expect(isBlockedIp(parseIp('172.32.0.1') as Uint8Array)).toBe(false);
    expect(isBlockedIp(parseIp('100.128.0.1') as Uint8Array)).toBe(false);
  });

  it('allows private targets only by config or allow-listed CIDR', async () => {
    await expect(checkTarget('http://10.20.1.2/hook', { allowHttp: true, allowCidrs: ['10.20.0.0/16'] })).resolves.toBeDefined();
    await expect(checkTarget('http://[::ffff:10.20.1.2]/hook', { allowHttp: true, allowCidrs: ['10.20.0.0/16'] })).resolves.toBeDefined();
    await expect(checkTarget('http://10.21.1.2/hook', { allowHttp: true, allowCidrs: ['10.20.0.0/16'] })).rejects.toThrow(TargetRefused);
    await expect(checkTarget('http://127.0.0.1/hook', { allowHttp: true, allowPrivateTargets: true })).resolves.toBeDefined();
  });

  it('requires https unless allowed, and refuses credentials in the URL', () => {
    expect(() => checkUrlShape('http://93.184.216.34/hook', {})).toThrow(/https/);
    expect(() => checkUrlShape('ftp://93.184.216.34/hook', { allowHttp: true })).toThrow(TargetRefused);
    expect(() => checkUrlShape('https://u:p@93.184.216.34/hook', {})).toThrow(/credentials/);
    expect(() => checkUrlShape('not a url', {})).toThrow(TargetRefused);
  });
});

describe('webhook signatures', () => {
  const secret = 'whsec_test';
  const body = '{"id":"evt_1","type":"key.created"}';
  const t = 1_700_000_000;

  it('verifies what it signs, within the tolerance', () => {
    const header = signPayload(secret, body, t);
    expect(header).toMatch(/^t=1700000000,v1=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(header, body, secret, 300, t + 299)).toBe(true);
    expect(verifyWebhookSignature(header, Buffer.from(body), secret, 300, t)).toBe(true);
  });

  it('rejects a changed body, another secret, an old timestamp and garbage', () => {
    const header = signPayload(secret, body, t);
    expect(verifyWebhookSignature(header, `${body} `, secret, 300, t)).toBe(false);
    expect(verifyWebhookSignature(header, body, 'whsec_other', 300, t)).toBe(false);
    expect(verifyWebhookSignature(header, body, secret, 300, t + 301)).toBe(false);
    expect(verifyWebhookSignature(header.replace('t=1700000000', 't=1700000001'), body, secret, 300, t)).toBe(false);
    expect(verifyWebhookSignature('v1=abc', body, secret, 300, t)).toBe(false);
    expect(verifyWebhookSignature(undefined, body, secret, 300, t)).toBe(false);
  });

  it('accepts any matching v1 among several (secret rotation)', () => {
    const good = signPayload(secret, body, t).split('v1=')[1];
    expect(verifyWebhookSignature(`t=${t},v1=${'0'.repeat(64)},v1=${good}`, body, secret, 300, t)).toBe(true);
  });
});
