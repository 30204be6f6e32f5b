import { describe, expect, it } from 'vitest';
import { listenProblem } from './listen-problem.ts';

// The address errors come from the kernel and the resolver; binding a foreign address or resolving a
// name in a test would leave loopback, so they are checked here on the errors Node gives.
const fail = (code: string) => Object.assign(new Error(`listen ${code}`), { code });
const server = { host: '10.1.2.3', port: 8080 };

describe('listenProblem', () => {
  it.each([
    ['EADDRINUSE', 'server.port', '8080 is already in use on 10.1.2.3 (EADDRINUSE)'],
    ['EACCES', 'server.port', '8080 on 10.1.2.3 needs privileges'],
    ['EADDRNOTAVAIL', 'server.host', '10.1.2.3 is not an address of this machine (EADDRNOTAVAIL)'],
    ['ENOTFOUND', 'server.host', '"10.1.2.3" does not resolve to an address (ENOTFOUND)'],
  ])('says %s by the key that set the address', (code, field, message) => {
    const p = listenProblem(fail(code), server);
    expect(p?.field).toBe(field);
    expect(p?.message).toContain(message);
  });

  it('leaves any other failure to be reported as it is', () => {
    expect(listenProblem(fail('EMFILE'), server)).toBeUndefined();
    expect(listenProblem(new Error('boom'), server)).toBeUndefined();
    expect(listenProblem(undefined, server)).toBeUndefined();
  });
});
