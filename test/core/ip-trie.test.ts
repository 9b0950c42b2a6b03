// The IP prefix trie: parsing (IPv4, IPv6, mapped, zones), longest-prefix lookups, labels.
import { describe, expect, it } from 'vitest';
import { IpPrefixSet, parseCidr, parseIp } from '../../core/ip-trie.js';

describe('parseIp', () => {
  it.each([
    ['1.2.3.4', [1, 2, 3, 4]],
    ['::ffff:1.2.3.4', [1, 2, 3, 4]],
    ['::ffff:0102:0304', [1, 2, 3, 4]],
  ])('%s is IPv4', (text, bytes) => {
    expect([...parseIp(text)!]).toEqual(bytes);
  });

  it.each(['2001:db8::1', '::', '::1', 'fe80::1%eth0', '[2001:db8::1]', '1:2:3:4:5:6:7:8', '64:ff9b::192.0.2.33'])('%s is IPv6', (text) => {
    expect(parseIp(text)?.length).toBe(16);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.-1',
    '1::2::3',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    'g::1',
    'example.com',
    '1.2.3.4 ',
    'x'.repeat(100),
  ])('%j is not an address', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('CIDRs: lengths are checked per family; mapped IPv6 blocks become IPv4 ones', () => {
    expect(parseCidr('10.0.0.0/8')).toMatchObject({ bits: 8 });
    expect(parseCidr('::ffff:10.0.0.0/104')).toMatchObject({ bits: 8 });
    expect(parseCidr('10.0.0.0/33')).toMatch(/out of range/);
    expect(parseCidr('2001:db8::/129')).toMatch(/out of range/);
    expect(parseCidr('10.0.0.0/x')).toMatch(/bad prefix length/);
  });
});

describe('IpPrefixSet', () => {
  const set = new IpPrefixSet();
  set.addText('10.0.0.0/8', 0);
  set.addText('10.1.2.0/24', 1);
  set.addText('192.0.2.7', 2);
  set.addText('2001:db8::/32', 3);
  set.addText('2001:db8:1::/48', 4);
  set.addText('0.0.0.0/0', 5);

  it.each([
    ['10.9.9.9', 0, '10.0.0.0/8'],
    ['10.1.2.200', 1, '10.1.2.0/24'],
    ['192.0.2.7', 2, '192.0.2.7/32'],
    ['::ffff:192.0.2.7', 2, '192.0.2.7/32'],
    ['2001:db8:ffff::1', 3, '2001:db8::/32'],
    ['2001:db8:1:2::9', 4, '2001:db8:1::/48'],
    ['8.8.8.8', 5, '0.0.0.0/0'],
  ])('%s → the longest block', (ip, label, prefix) => {
    expect(set.lookup(ip)).toEqual({ label, prefix });
  });

  it('an IPv6 address outside the blocks, and garbage, are not listed', () => {
    expect(set.lookup('2001:db9::1')).toBeUndefined();
    expect(set.lookup('not-an-ip')).toBeUndefined();
  });

  it('the first list to add a block keeps it', () => {
    const s = new IpPrefixSet();
    s.addText('1.2.3.4', 7);
    s.addText('1.2.3.4/32', 8);
    expect(s.lookup('1.2.3.4')?.label).toBe(7);
  });

  it('holds 100,000 entries in a few MB', () => {
    const s = new IpPrefixSet();
    for (let i = 0; i < 100_000; i++) s.add(new Uint8Array([(i * 7919) & 255, (i >> 8) & 255, i & 255, (i * 31) & 255]), 32, 0);
    expect(s.entries).toBe(100_000);
    expect(s.memoryBytes).toBeLessThan(64 * 1024 * 1024);
    expect(s.lookup(`${(5 * 7919) & 255}.0.5.${(5 * 31) & 255}`)?.label).toBe(0);
  });
});
