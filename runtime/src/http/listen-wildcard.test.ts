import { describe, expect, it } from 'vitest';
import { listenWildcard } from './listen-wildcard.ts';

// The kernel's refusal of "::" cannot be produced on a host with IPv6, so the bind is a function that
// fails as that kernel does; the real bind is what the runtime's listen() passes in.
const failing =
  (code: string, on: string) =>
  async (host: string): Promise<string> => {
    if (host === on) throw Object.assign(new Error(`listen ${code} ${host}`), { code });
    return `bound ${host}`;
  };

describe('listenWildcard', () => {
  it('takes "::" when the host can bind it', async () => {
    await expect(listenWildcard(failing('EAFNOSUPPORT', 'nowhere'), '::')).resolves.toBe('bound ::');
  });

  it('falls back to 0.0.0.0 when the kernel has no IPv6', async () => {
    await expect(listenWildcard(failing('EAFNOSUPPORT', '::'), '::')).resolves.toBe('bound 0.0.0.0');
    await expect(listenWildcard(failing('EADDRNOTAVAIL', '::'), '::')).resolves.toBe('bound 0.0.0.0');
  });

  it('leaves other failures and other hosts as they were', async () => {
    await expect(listenWildcard(failing('EADDRINUSE', '::'), '::')).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await expect(listenWildcard(failing('EAFNOSUPPORT', '::1'), '::1')).rejects.toMatchObject({
      code: 'EAFNOSUPPORT',
    });
  });
});
