import { describe, expect, it } from 'vitest';
import { ipAllowed, parseCidrs, urlAllowed } from './pod-cidrs.ts';

describe('pod CIDRs', () => {
  const { cidrs, errors } = parseCidrs('127.0.0.0/8, 10.244.0.0/16,fd00::/8');

  it('parses a comma-separated list', () => {
    expect(errors).toEqual([]);
    expect(cidrs.map((c) => c.text)).toEqual(['127.0.0.0/8', '10.244.0.0/16', 'fd00::/8']);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.255.3.4', true],
    ['10.244.1.7', true],
    ['10.245.0.1', false],
    ['192.168.1.1', false],
    ['fd12::1', true],
    ['fe80::1', false],
    ['::ffff:127.0.0.1', false],
    ['not-an-ip', false],
  ])('%s allowed: %s', (ip, allowed) => {
    expect(ipAllowed(ip, cidrs)).toBe(allowed);
  });

  it('allows every address when no list is given', () => {
    expect(ipAllowed('8.8.8.8', undefined)).toBe(true);
  });

  it('refuses no address and allows only itself with /32', () => {
    const one = parseCidrs('127.0.0.5/32').cidrs;
    expect(ipAllowed('127.0.0.5', one)).toBe(true);
    expect(ipAllowed('127.0.0.6', one)).toBe(false);
  });

  it('names each bad entry', () => {
    expect(parseCidrs('10.0.0.0/33,foo,10.0.0.1').errors).toEqual([
      '"10.0.0.0/33" is not a CIDR like 10.244.0.0/16 or fd00::/8',
      '"foo" is not a CIDR like 10.244.0.0/16 or fd00::/8',
      '"10.0.0.1" is not a CIDR like 10.244.0.0/16 or fd00::/8',
    ]);
  });
});

describe('urlAllowed', () => {
  const { cidrs } = parseCidrs('127.0.0.0/8,fd00::/8');
  it.each([
    ['http://127.0.0.3:8080', true],
    ['http://10.244.0.5:8080', false],
    ['http://[fd00::5]:8080', true],
    ['http://pod-name:8080', false],
    ['not a url', false],
  ])('%s: %s', (url, ok) => expect(urlAllowed(url, cidrs)).toBe(ok));
  it('allows any URL without a list', () => expect(urlAllowed('http://10.0.0.1', undefined)).toBe(true));
});
