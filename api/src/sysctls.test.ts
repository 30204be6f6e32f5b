import { describe, expect, it } from 'vitest';
import { isSafeSysctl } from './sysctls.ts';

describe('isSafeSysctl', () => {
  it.each(['net.ipv4.tcp_keepalive_time', 'kernel.shm_rmid_forced', 'net.ipv4.tcp_rmem'])(
    '%s is safe',
    (name) => {
      expect(isSafeSysctl(name)).toBe(true);
    },
  );

  // Pod Security Admission compares names as written: a slash name in securityContext.sysctls is
  // refused with the pod, so it is not safe here (the CRDs refuse it on apply).
  it.each(['net/ipv4/tcp_keepalive_time', 'kernel/shm_rmid_forced', 'net.ipv4/tcp_rmem'])(
    '%s, a safe name written with slashes, is not safe',
    (name) => {
      expect(isSafeSysctl(name)).toBe(false);
    },
  );

  it.each(['net.core.somaxconn', 'vm.swappiness', 'net.ipv4.tcp_slow_start_after_idle'])(
    '%s is outside the safe set',
    (name) => {
      expect(isSafeSysctl(name)).toBe(false);
    },
  );
});
