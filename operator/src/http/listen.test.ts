import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { OperatorError, OperatorErrorCode } from '../errors.ts';
import { closeServer, type ListenTarget, listen, listenAll } from './listen.ts';

// Real servers on loopback: a port is taken by a server of the test, then asked for again.

const opened: Server[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map(closeServer));
});

const aServer = () => {
  const s = createServer();
  opened.push(s);
  return s;
};
const target = (port: number, o: Partial<ListenTarget> = {}): ListenTarget => ({
  server: aServer(),
  name: 'metrics server',
  port,
  host: '127.0.0.1',
  portFlag: '--metrics-port',
  hostFlag: '--bind-address',
  ...o,
});
/** A port some other server of this test listens on. */
const takenPort = async () => listen(target(0));

describe('listen', () => {
  it('resolves with the port it bound (0 picks a free one)', async () => {
    const t = target(0);
    const port = await listen(t);
    expect(port).toBeGreaterThan(0);
    expect((t.server.address() as AddressInfo).port).toBe(port);
  });

  it('rejects a port in use with HAL9_ERR_LISTEN_FAILED naming the address and the flag', async () => {
    const port = await takenPort();
    const t = target(port);
    const err = await listen(t).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(OperatorError);
    expect(err).toMatchObject({ code: OperatorErrorCode.ListenFailed });
    expect((err as OperatorError).message).toBe(
      `HAL9_ERR_LISTEN_FAILED: Listen of the metrics server on 127.0.0.1:${port} failed: the address is in use (EADDRINUSE); stop what listens there, or pick another port with --metrics-port (0 picks a free one)`,
    );
    expect((err as OperatorError).cause).toMatchObject({ code: 'EADDRINUSE' });
    expect(t.server.listening).toBe(false);
  });

  it('names --bind-address when the address is not one of this machine', async () => {
    // 192.0.2.0/24 is TEST-NET-1: never assigned to a host.
    const err = await listen(target(0, { host: '192.0.2.1' })).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: OperatorErrorCode.ListenFailed });
    expect((err as Error).message).toContain('192.0.2.1 is not an address of this machine');
    expect((err as Error).message).toContain('change --bind-address');
  });

  // A kernel without IPv6 cannot be had here: the bind fails on "::" as that kernel's does, and
  // binds the real server on loopback otherwise (the fallback's 0.0.0.0 stands in as 127.0.0.1, so
  // that nothing listens beyond loopback).
  const noIpv6 =
    (code: string) =>
    (server: Server, port: number, host: string): Promise<number> => {
      if (host === '::') return Promise.reject(Object.assign(new Error(`listen ${code} ::`), { code }));
      expect(host).toBe('0.0.0.0');
      return listen({ ...target(port), server });
    };

  it('takes 0.0.0.0 for "::" when the kernel has no IPv6, and serves there', async () => {
    const t = target(0, { host: '::' });
    const port = await listen(t, noIpv6('EAFNOSUPPORT'));
    expect((t.server.address() as AddressInfo).port).toBe(port);
  });

  it('keeps any other failure of "::" as HAL9_ERR_LISTEN_FAILED', async () => {
    const err = await listen(target(0, { host: '::' }), noIpv6('EACCES')).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: OperatorErrorCode.ListenFailed, cause: { code: 'EACCES' } });
    expect((err as Error).message).toContain('[::]:0');
  });
});

describe('listenAll', () => {
  it('resolves with every port, in order', async () => {
    const [a, b] = await listenAll([target(0), target(0, { portFlag: '--health-port' })]);
    expect(a).toBeGreaterThan(0);
    expect(b).toBeGreaterThan(0);
    expect(a).not.toBe(b);
  });

  it('closes the servers already listening when a later one cannot, so nothing is left bound', async () => {
    const port = await takenPort();
    const first = target(0, { name: 'health server', portFlag: '--health-port' });
    const second = target(port);
    await expect(listenAll([first, second])).rejects.toMatchObject({
      code: OperatorErrorCode.ListenFailed,
      message: expect.stringContaining('--metrics-port'),
    });
    expect(first.server.listening).toBe(false);
    expect(second.server.listening).toBe(false);
  });
});
