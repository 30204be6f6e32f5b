import { describe, expect, it } from 'vitest';
import {
  assertLoopbackIp,
  assertLoopbackNetwork,
  ipInCidr,
  isLoopbackCidr,
  isLoopbackIp,
  pickPodNetwork,
  podNetworkFor,
} from './loopback.ts';

describe('loopback addresses', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.200.0.5', true],
    ['127.255.255.254', true],
    ['10.244.0.1', false],
    ['128.0.0.1', false],
    ['0.0.0.0', false],
    ['::1', false],
    ['localhost', false],
    ['127.1', false],
    ['', false],
  ])('%s is loopback: %s', (ip, expected) => {
    expect(isLoopbackIp(ip)).toBe(expected);
  });

  it('assertLoopbackIp names what was refused', () => {
    expect(assertLoopbackIp('127.3.0.1', 'pod p status.podIP')).toBe('127.3.0.1');
    expect(() => assertLoopbackIp('10.244.0.7', 'pod ns/p status.podIP')).toThrow(
      'HAL9_TEST_NON_LOOPBACK: pod ns/p status.podIP is "10.244.0.7", outside 127.0.0.0/8',
    );
    expect(() => assertLoopbackIp(undefined, 'pod ns/p status.podIP')).toThrow(/status.podIP is unset/);
  });

  it('accepts only CIDRs wholly inside 127.0.0.0/8', () => {
    expect(isLoopbackCidr('127.9.0.0/17')).toBe(true);
    expect(isLoopbackCidr('127.0.0.0/8')).toBe(true);
    expect(isLoopbackCidr('96.0.0.0/3')).toBe(false);
    expect(isLoopbackCidr('127.0.0.0/7')).toBe(false);
    expect(isLoopbackCidr('127.9.0.0')).toBe(false);
  });

  it('splits 127.<n>.0.0/16 into disjoint pod, Service and node addresses', () => {
    expect(podNetworkFor(42)).toEqual({
      podCidr: '127.42.0.0/17',
      serviceCidr: '127.42.254.0/24',
      nodeIp: '127.42.255.1',
    });
    expect(() => podNetworkFor(0)).toThrow(/1\.\.254/);
    expect(() => podNetworkFor(255)).toThrow(/1\.\.254/);
    expect(() => assertLoopbackNetwork({ ...podNetworkFor(1), podCidr: '10.0.0.0/8' })).toThrow(
      /HAL9_TEST_NON_LOOPBACK/,
    );
  });

  it('never hands out the same network twice in one process', () => {
    // A random source stuck on one value: the second pick must move on, not repeat.
    let calls = 0;
    const stuck = () => (calls++ < 5 ? 0.5 : 0.9);
    const a = pickPodNetwork(stuck);
    const b = pickPodNetwork(stuck);
    expect(a.podCidr).not.toBe(b.podCidr);
    for (const n of [a, b]) expect(assertLoopbackNetwork(n)).toBe(n);
  });
});

describe('ipInCidr', () => {
  it.each([
    ['127.42.0.1', '127.42.0.0/17', true],
    ['127.42.127.255', '127.42.0.0/17', true],
    ['127.42.128.0', '127.42.0.0/17', false],
    ['127.43.0.1', '127.42.0.0/17', false],
    ['10.0.0.1', '0.0.0.0/0', true],
    ['x', '127.0.0.0/8', false],
  ])('%s in %s: %s', (ip, cidr, expected) => {
    expect(ipInCidr(ip, cidr)).toBe(expected);
  });
});
