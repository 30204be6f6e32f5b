import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { freePorts } from '../../test/cluster/ports.ts';
import { parseConfig } from './config.ts';
import { OperatorErrorCode } from './errors.ts';
import { closeServer } from './http/listen.ts';
import { startOperator } from './operator.ts';
import { renderNeuron } from './render/index.ts';
import { type ApiserverStub, startApiserverStub } from './testing/apiserver-stub.ts';
import { FakeClock } from './testing/fake-clock.ts';

// The start of the operator when a port is taken, against a loopback stand-in for the apiserver
// that records every request; starting and reconciling against a real one is operator/test.

const servers: Server[] = [];
const stubs: ApiserverStub[] = [];
afterEach(async () => {
  await Promise.all([...servers.splice(0).map(closeServer), ...stubs.splice(0).map((s) => s.close())]);
});

const listenOn = async (port: number): Promise<number> => {
  const s = createServer();
  servers.push(s);
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.listen(port, '127.0.0.1', resolve);
  });
  return (s.address() as AddressInfo).port;
};

describe('startOperator with its metrics port taken', () => {
  it('rejects naming --metrics-port, having opened no watch, taken no Lease and freed its health port', async () => {
    const stub = await startApiserverStub(() => 'hang');
    stubs.push(stub);
    const taken = await listenOn(0);
    // A free port for the health server (which listens first), below the ephemeral range: no listen(0)
    // or outgoing connection of the tests running beside this one can take it in the meantime.
    const healthPort = (await freePorts(1))[0]!;
    const parsed = parseConfig(
      [
        ...['--metrics-port', String(taken), '--health-port', String(healthPort)],
        ...['--leader-elect', '--leader-election-namespace', 'hal9-system'],
      ],
      {},
    );
    if ('errors' in parsed) throw new Error(parsed.errors.join('; '));

    const started = startOperator({
      kc: stub.kc,
      config: parsed.config,
      registry: new Registry(),
      logger: pino({ level: 'silent' }),
      clock: new FakeClock(),
      render: renderNeuron,
    });
    await expect(started).rejects.toMatchObject({
      code: OperatorErrorCode.ListenFailed,
      message: expect.stringMatching(new RegExp(`127\\.0\\.0\\.1:${taken} failed: .*--metrics-port`)),
    });
    // Whatever the start had begun would have reached the apiserver by now.
    await new Promise((r) => setTimeout(r, 200));
    expect(stub.requests.map((r) => `${r.method} ${r.url}`)).toEqual([]);
    expect(await listenOn(healthPort)).toBe(healthPort);
  });
});
