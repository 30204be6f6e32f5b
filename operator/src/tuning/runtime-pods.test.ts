import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRuntime, startRuntime } from '../../../monitoring/test/support/runtime-process.ts';
import { freePorts } from '../../../test/cluster/ports.ts';
import { podIPURL, readyPodsByNeuron, setPodLimit } from './runtime-pods.ts';

const aPod = (
  name: string,
  o: {
    neuron?: string;
    ip?: string;
    ready?: boolean;
    deleting?: boolean;
    namespace?: string;
    restarts?: number;
  } = {},
): V1Pod => ({
  metadata: {
    name,
    namespace: o.namespace ?? 'ns',
    uid: `uid-${name}`,
    labels:
      o.neuron === undefined
        ? { 'hal9.ai/neuron': 'impl-1' }
        : o.neuron
          ? { 'hal9.ai/neuron': o.neuron }
          : {},
    ...(o.deleting ? { deletionTimestamp: new Date(0) } : {}),
  },
  status: {
    ...(o.ip === '' ? {} : { podIP: o.ip ?? '10.1.2.3' }),
    conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }],
    ...(o.restarts === undefined
      ? {}
      : {
          containerStatuses: [
            { name: 'runtime', image: 'hal9', imageID: '', ready: true, restartCount: o.restarts },
          ],
        }),
  },
});

describe('readyPodsByNeuron', () => {
  it('keeps Ready, addressed, live pods, grouped by namespace/neuron', () => {
    const pods = readyPodsByNeuron(
      [
        aPod('impl-1-a-1'),
        aPod('impl-1-a-2', { ready: false }),
        aPod('impl-1-a-3', { deleting: true }),
        aPod('impl-1-a-4', { ip: '' }),
        aPod('impl-1-a-5', { namespace: 'other' }),
        aPod('stray', { neuron: '' }),
        aPod('design-1-a-1', { neuron: 'design-1', ip: 'fd00::7' }),
      ],
      podIPURL,
    );
    expect(Object.fromEntries(pods)).toEqual({
      'ns/impl-1': [
        {
          uid: 'uid-impl-1-a-1',
          instance: 'uid-impl-1-a-1#0',
          name: 'impl-1-a-1',
          url: 'http://10.1.2.3:8080',
        },
      ],
      'other/impl-1': [
        {
          uid: 'uid-impl-1-a-5',
          instance: 'uid-impl-1-a-5#0',
          name: 'impl-1-a-5',
          url: 'http://10.1.2.3:8080',
        },
      ],
      'ns/design-1': [
        {
          uid: 'uid-design-1-a-1',
          instance: 'uid-design-1-a-1#0',
          name: 'design-1-a-1',
          url: 'http://[fd00::7]:8080',
        },
      ],
    });
  });

  it('says since when a pod is Ready (its Ready condition’s last transition)', () => {
    const pod = aPod('impl-1-a-1');
    pod.status!.conditions![0]!.lastTransitionTime = new Date('2026-12-05T10:00:00Z');
    expect(readyPodsByNeuron([pod], podIPURL).get('ns/impl-1')?.[0]?.readySince).toBe(
      Date.parse('2026-12-05T10:00:00Z'),
    );
  });

  it("names a pod's process by its uid and restart count: a restarted container is a new instance", () => {
    const [before] = readyPodsByNeuron([aPod('impl-1-a-1', { restarts: 0 })], podIPURL).get('ns/impl-1')!;
    const [after] = readyPodsByNeuron([aPod('impl-1-a-1', { restarts: 1 })], podIPURL).get('ns/impl-1')!;
    expect(before!.uid).toBe(after!.uid);
    expect(before!.instance).not.toBe(after!.instance);
  });
});

describe('setPodLimit against a real runtime process', () => {
  let rt: RunningRuntime;
  beforeAll(async () => {
    rt = await startRuntime({
      server: { auth_token: 's3cret-admin-token' },
      performance: { max_concurrent_signals: 8 },
    });
  }, 30_000);
  afterAll(() => rt?.stop());

  const limit = async () =>
    (
      (await (
        await fetch(`${rt.url}/v1/admin/performance`, {
          headers: { authorization: 'Bearer s3cret-admin-token' },
        })
      ).json()) as { max_concurrent_signals: number }
    ).max_concurrent_signals;

  it('is refused without the bearer token the runtime requires', async () => {
    // Whatever the other tests of this process left, a refused PUT changes nothing.
    const before = await limit();
    await expect(setPodLimit(rt.url, before + 5)).rejects.toThrow(/HAL9_ERR_POD_TUNING_FAILED: .*HTTP 401/);
    expect(await limit()).toBe(before);
  });

  it('changes the executor limit of the running process and returns what it applied', async () => {
    expect(await setPodLimit(rt.url, 12, { token: 's3cret-admin-token' })).toBe(12);
    expect(await limit()).toBe(12);
  });

  it('reports an unreachable pod', async () => {
    // A port below the ephemeral range that nothing listens on: no other test's listen(0) or
    // outgoing connection can take it meanwhile.
    const [port] = await freePorts(1);
    await expect(setPodLimit(`http://127.0.0.1:${port}`, 4)).rejects.toThrow(
      /HAL9_ERR_POD_TUNING_FAILED: .*ECONNREFUSED/,
    );
  });
});
