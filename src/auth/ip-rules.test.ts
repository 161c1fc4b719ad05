import { BlockList, isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import { IpRuleError, compileIpRules, normalizeIp, parseIPv4, parseIPv6, parseIp } from './ip-rules.js';

describe('address parsing', () => {
  it('parses IPv4 strictly', () => {
    expect(parseIPv4('0.0.0.0')).toBe(0);
    expect(parseIPv4('255.255.255.255')).toBe(0xffffffff);
    expect(parseIPv4('10.1.2.3')).toBe(0x0a010203);
    for (const bad of ['', '1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.04', '1..2.3', '1.2.3.', ' 1.2.3.4', '1.2.3.4 ', 'a.b.c.d', '1.2.3.4/8', '1234.1.1.1']) {
      expect(parseIPv4(bad), bad).toBe(-1);
    }
  });

  it('parses IPv6 in every written form, agreeing with the URL parser', () => {
    const forms = [
      '::', '::1', '1::', '2001:db8::1', '2001:DB8:0:0:0:0:0:1', '2001:db8:0:0:1:0:0:1', 'fe80::1:2:3:4',
      '1:2:3:4:5:6:7:8', '::ffff:1.2.3.4', '::1.2.3.4', '64:ff9b::192.0.2.33', '1:2:3:4:5:6:1.2.3.4', '1:0:0:0:0:0:0:0',
      'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', '2001:db8::ffff:0:1',
    ];
    for (const f of forms) {
      const n = parseIPv6(f);
      expect(n, f).not.toBeNull();
      const viaUrl = new URL(`http://[${f}]/`).hostname.slice(1, -1);
      const p = parseIp(f);
      // Mapped addresses normalise to IPv4; the URL parser keeps them as ::ffff:a.b.c.d hex.
      if (p?.v === 6) expect(normalizeIp(f), f).toBe(viaUrl);
    }
  });

  it('refuses invalid IPv6', () => {
    for (const bad of ['', ':', ':::', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7', '::ffff:1.2.3', '::ffff:256.1.1.1', '1:2:3:4:5:6:7:1.2.3.4', ':1::2', '1::2:']) {
      expect(parseIPv6(bad), bad).toBeNull();
      expect(isIPv6(bad), bad).toBe(false);
    }
  });

  it('treats IPv4-mapped IPv6 (dotted and hex) as IPv4 and drops zone ids', () => {
    expect(parseIp('::ffff:1.2.3.4')).toEqual({ v: 4, n: 0x01020304 });
    expect(parseIp('::FFFF:0102:0304')).toEqual({ v: 4, n: 0x01020304 });
    expect(normalizeIp('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(normalizeIp('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeIp('2001:0DB8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeIp('not-an-ip')).toBeNull();
  });
});

describe('compileIpRules', () => {
  it('with no rules allows everything, even unparseable addresses', () => {
    const r = compileIpRules({});
    expect(r.empty).toBe(true);
    expect(r.check('1.2.3.4')).toMatchObject({ allowed: true, reason: 'no_rules' });
    expect(r.check('garbage').allowed).toBe(true);
  });

  it('allow list: listed addresses pass, unlisted are refused', () => {
    const r = compileIpRules({ allow: ['10.0.0.0/8', '192.168.1.7'] });
    expect(r.check('10.200.3.4')).toEqual({ allowed: true, rule: '10.0.0.0/8', list: 'allow', reason: 'allowed' });
    expect(r.check('192.168.1.7')).toMatchObject({ allowed: true, rule: '192.168.1.7' });
    expect(r.check('192.168.1.8')).toEqual({ allowed: false, reason: 'not_in_allow_list' });
    expect(r.check('11.0.0.0').allowed).toBe(false);
    expect(r.check('9.255.255.255').allowed).toBe(false);
  });

  it('deny list alone: listed refused, others pass', () => {
    const r = compileIpRules({ deny: ['203.0.113.0/24'] });
    expect(r.check('203.0.113.99')).toEqual({ allowed: false, rule: '203.0.113.0/24', list: 'deny', reason: 'denied' });
    expect(r.check('203.0.114.1')).toMatchObject({ allowed: true, reason: 'no_deny_match' });
  });

  it('deny wins over allow', () => {
    const r = compileIpRules({ allow: ['10.0.0.0/8', '2001:db8::/32'], deny: ['10.6.6.0/24', '2001:db8:bad::/48'] });
    expect(r.check('10.6.6.6')).toMatchObject({ allowed: false, rule: '10.6.6.0/24', list: 'deny' });
    expect(r.check('10.6.7.1')).toMatchObject({ allowed: true, rule: '10.0.0.0/8' });
    expect(r.check('2001:db8:bad::1')).toMatchObject({ allowed: false, rule: '2001:db8:bad::/48' });
    expect(r.check('2001:db8:900d::1')).toMatchObject({ allowed: true, rule: '2001:db8::/32' });
  });

  it('IPv6: compressed and full forms, /128, single address, /0', () => {
    const r = compileIpRules({ allow: ['2001:db8:0:0:0:0:0:1', '2001:db8::2/128', 'fd00::/8'] });
    expect(r.check('2001:db8::1').allowed).toBe(true);
    expect(r.check('2001:0db8:0000:0000:0000:0000:0000:0002').allowed).toBe(true);
    expect(r.check('2001:db8::3').allowed).toBe(false);
    expect(r.check('fdff:ffff::1').allowed).toBe(true);
    expect(r.check('fe00::1').allowed).toBe(false);
    const all6 = compileIpRules({ deny: ['::/0'] });
    expect(all6.check('::1').allowed).toBe(false);
    expect(all6.check('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff').allowed).toBe(false);
    // ::/0 is "every IPv6 address"; IPv4 clients are matched by IPv4 rules (see the doc).
    expect(all6.check('1.2.3.4').allowed).toBe(true);
  });

  it('IPv4 /0 and /32', () => {
    const r = compileIpRules({ deny: ['0.0.0.0/0'], allow: ['::1'] });
    expect(r.check('255.255.255.255').allowed).toBe(false);
    expect(r.check('0.0.0.0').allowed).toBe(false);
    expect(r.check('::1').allowed).toBe(true);
    expect(compileIpRules({ allow: ['1.2.3.4/32'] }).check('1.2.3.4').allowed).toBe(true);
    expect(compileIpRules({ allow: ['1.2.3.4/32'] }).check('1.2.3.5').allowed).toBe(false);
  });

  it('IPv4-mapped clients are matched by IPv4 rules (a dual-stack socket cannot dodge a deny)', () => {
    const r = compileIpRules({ deny: ['198.51.100.0/24'] });
    expect(r.check('::ffff:198.51.100.7')).toMatchObject({ allowed: false, rule: '198.51.100.0/24' });
    expect(r.check('::ffff:c633:6407')).toMatchObject({ allowed: false });
    const a = compileIpRules({ allow: ['127.0.0.1'] });
    expect(a.check('::ffff:127.0.0.1').allowed).toBe(true);
  });

  it('rules written as IPv4-mapped IPv6 match plain IPv4 clients', () => {
    const r = compileIpRules({ deny: ['::ffff:10.0.0.0/104', '::ffff:192.0.2.1'] });
    expect(r.check('10.9.9.9')).toMatchObject({ allowed: false, rule: '::ffff:10.0.0.0/104' });
    expect(r.check('192.0.2.1')).toMatchObject({ allowed: false, rule: '::ffff:192.0.2.1' });
    expect(r.check('192.0.2.2').allowed).toBe(true);
  });

  it('nested and overlapping entries keep matching correctly', () => {
    const r = compileIpRules({ deny: ['10.1.2.0/24', '10.0.0.0/8', '10.1.0.0/16', '172.16.0.0/12', '10.255.255.255'] });
    for (const ip of ['10.0.0.0', '10.1.2.3', '10.1.3.3', '10.255.255.255']) expect(r.check(ip).allowed, ip).toBe(false);
    expect(r.check('10.1.2.3').rule).toBe('10.0.0.0/8');
    expect(r.check('11.0.0.0').allowed).toBe(true);
    expect(r.check('172.31.255.255').allowed).toBe(false);
    expect(r.check('172.32.0.0').allowed).toBe(true);
  });

  it('refuses unparseable client addresses when any rule exists (fail closed)', () => {
    const deny = compileIpRules({ deny: ['10.0.0.0/8'] });
    for (const bad of ['', 'garbage', '010.0.0.1', '10.0.0.1, 1.2.3.4', '[::1]', '1.2.3.4:80']) {
      expect(deny.check(bad), bad).toEqual({ allowed: false, reason: 'invalid_address' });
    }
  });

  it('agrees with node:net BlockList on random addresses', () => {
    const cidrs: [string, number, 'ipv4' | 'ipv6'][] = [
      ['10.0.0.0', 8, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['203.0.113.128', 25, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'], ['fe80::', 10, 'ipv6'], ['2a00:1450:4001::', 48, 'ipv6'],
    ];
    const bl = new BlockList();
    for (const [a, p, t] of cidrs) bl.addSubnet(a, p, t);
    const rules = compileIpRules({ deny: cidrs.map(([a, p]) => `${a}/${p}`) });
    let seed = 42;
    const rnd = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31);
    for (let i = 0; i < 3000; i++) {
      const v4 = `${[10, 192, 203, rnd() % 256][rnd() % 4]}.${rnd() % 256}.${rnd() % 256}.${rnd() % 256}`;
      expect(rules.check(v4).allowed, v4).toBe(!bl.check(v4, 'ipv4'));
      const head = ['2001:db8', 'fe80', 'febf', '2a00:1450:4001', '2a00:1450:4002', (rnd() % 65536).toString(16)][rnd() % 6];
      const v6 = `${head}::${(rnd() % 65536).toString(16)}:${(rnd() % 65536).toString(16)}`;
      expect(rules.check(v6).allowed, v6).toBe(!bl.check(v6, 'ipv6'));
    }
  });
});

describe('compileIpRules: config validation names the bad entry', () => {
  const cases: [Parameters<typeof compileIpRules>[0], RegExp][] = [
    [{ deny: ['10.0.0.0/8', '10.0.0.300'] }, /ipRules\.deny\[1\]: "10\.0\.0\.300" is not a valid/],
    [{ allow: ['10.0.0.0/33'] }, /ipRules\.allow\[0\]: "10\.0\.0\.0\/33": the prefix \/33 is longer than 32 bits/],
    [{ allow: ['2001:db8::/129'] }, /longer than 128 bits/],
    [{ allow: ['10.0.0.1/8'] }, /host bits set; did you mean 10\.0\.0\.0\/8\?/],
    [{ allow: ['2001:db8::1/32'] }, /host bits set; did you mean 2001:db8::\/32\?/],
    [{ allow: ['10.0.0.0/'] }, /invalid prefix length/],
    [{ allow: ['10.0.0.0/08'] }, /invalid prefix length/],
    [{ allow: ['10.0.0.0/-1'] }, /invalid prefix length/],
    [{ allow: ['fe80::1%eth0'] }, /zone ids/],
    [{ allow: ['1::2::3'] }, /not a valid IPv6 address/],
    [{ allow: [42 as unknown as string] }, /ipRules\.allow\[0\]: expected a string/],
    [{ allow: '10.0.0.0/8' as unknown as string[] }, /ipRules\.allow must be a list/],
    [{ deny: ['010.0.0.0/8'] }, /no leading zeros/],
  ];
  for (const [config, message] of cases) {
    it(`refuses ${JSON.stringify(config)}`, () => {
      expect(() => compileIpRules(config)).toThrow(IpRuleError);
      expect(() => compileIpRules(config)).toThrow(message);
    });
  }

  it('uses the caller-given name in messages (per-key rules)', () => {
    expect(() => compileIpRules({ allow: ['nope'] }, 'key key_123 ip')).toThrow(/^key key_123 ip\.allow\[0\]/);
  });

  it('trims whitespace around entries', () => {
    expect(compileIpRules({ allow: [' 10.0.0.0/8 '] }).check('10.0.0.1')).toMatchObject({ allowed: true, rule: '10.0.0.0/8' });
  });
});
