import { describe, expect, it } from 'vitest';
import { parseConfig } from './config.ts';
import { ipAllowed } from './tuning/pod-cidrs.ts';

describe('parseConfig: autoscaling flags', () => {
  it('reads the pods every 2 s and allows any pod address by default', () => {
    const parsed = parseConfig([], {});
    if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
    expect(parsed.config.tuningIntervalSeconds).toBe(2);
    expect(parsed.config.podCidrs).toBeUndefined();
  });

  it('takes --pod-cidrs as comma-separated CIDRs', () => {
    const parsed = parseConfig(['--pod-cidrs', '127.0.0.0/8, 10.244.0.0/16'], {});
    if ('errors' in parsed) throw new Error(parsed.errors.join('; '));
    expect(parsed.config.podCidrs?.map((c) => c.text)).toEqual(['127.0.0.0/8', '10.244.0.0/16']);
    expect(ipAllowed('127.4.0.9', parsed.config.podCidrs)).toBe(true);
    expect(ipAllowed('192.168.0.1', parsed.config.podCidrs)).toBe(false);
  });

  it('names the flag and the entry when a CIDR is malformed or the list is empty', () => {
    expect(parseConfig(['--pod-cidrs', '10.0.0.0/8,10.1.2.3'], {})).toEqual({
      errors: ['--pod-cidrs: "10.1.2.3" is not a CIDR like 10.244.0.0/16 or fd00::/8'],
    });
    expect(parseConfig(['--pod-cidrs', ','], {})).toEqual({ errors: ['--pod-cidrs names no CIDR'] });
  });
});
