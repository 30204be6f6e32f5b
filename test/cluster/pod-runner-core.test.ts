import type { V1Pod, V1Service } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { isLoopbackIp } from './loopback.ts';
import {
  decide,
  type ProcessState,
  proxyRoutes,
  type RunnerEntry,
  readinessStatus,
} from './pod-runner-core.ts';

const pod = (
  name: string,
  ip: string,
  o: { uid?: string; phase?: string; deleting?: boolean } = {},
): V1Pod => ({
  metadata: {
    namespace: 'ns',
    name,
    uid: o.uid ?? `uid-${name}`,
    labels: { app: 'a' },
    ...(o.deleting ? { deletionTimestamp: new Date(0) } : {}),
  },
  status: { phase: o.phase ?? 'Running', podIP: ip },
});
const entry = (name: string, ip: string, state: ProcessState, uid = `uid-${name}`): RunnerEntry => ({
  key: `ns/${name}`,
  uid,
  ip,
  port: 8080,
  state,
  labels: { app: 'a' },
});
const map = (...es: RunnerEntry[]) => new Map(es.map((e) => [e.key, e]));
const names = (pods: readonly V1Pod[]) => pods.map((p) => p.metadata?.name);

describe('decide', () => {
  it('starts Running pods with an IP and nothing else', () => {
    const d = decide(
      [pod('a', '127.9.0.1'), pod('b', '', {}), pod('c', '127.9.0.3', { phase: 'Pending' })],
      new Map(),
      16,
    );
    expect(names(d.start)).toEqual(['a']);
  });

  it('stops a process whose pod is gone, deleting, not Running or replaced', () => {
    const d = decide(
      [
        pod('b', '127.9.0.2', { deleting: true }),
        pod('c', '127.9.0.3', { phase: 'Succeeded' }),
        pod('d', '127.9.0.4', { uid: 'new' }),
        pod('e', '127.9.0.5'),
      ],
      map(
        entry('a', '127.9.0.1', 'ready'),
        entry('b', '127.9.0.2', 'ready'),
        entry('c', '127.9.0.3', 'starting'),
        entry('d', '127.9.0.4', 'ready'),
        entry('e', '127.9.0.5', 'ready'),
      ),
      16,
    );
    expect(d.stop).toEqual(['ns/a', 'ns/b', 'ns/c', 'ns/d']);
    // The replacement of d waits until the old process has exited.
    expect(names(d.start)).toEqual([]);
    expect(d.waiting.map((w) => w.reason)).toEqual(['ns/d: the previous process of this pod is stopping']);
  });

  it('does not restart a failed process of the same pod, but starts its replacement', () => {
    const same = decide([pod('a', '127.9.0.1')], map(entry('a', '127.9.0.1', 'failed')), 16);
    expect(same).toEqual({ stop: [], forget: [], start: [], waiting: [] });
    const replaced = decide(
      [pod('a', '127.9.0.9', { uid: 'new' })],
      map(entry('a', '127.9.0.1', 'failed')),
      16,
    );
    expect(replaced.forget).toEqual(['ns/a']);
    expect(names(replaced.start)).toEqual(['a']);
  });

  it('waits for an address a stopping process still holds', () => {
    const d = decide([pod('new', '127.9.0.1')], map(entry('old', '127.9.0.1', 'stopping')), 16);
    expect(d.start).toEqual([]);
    expect(d.waiting[0]?.reason).toBe('address 127.9.0.1 is still held by a stopping process');
  });

  it('bounds the number of live processes', () => {
    const d = decide(
      [pod('a', '127.9.0.1'), pod('b', '127.9.0.2'), pod('c', '127.9.0.3')],
      map(entry('a', '127.9.0.1', 'ready')),
      2,
    );
    expect(names(d.start)).toEqual(['b']);
    expect(d.waiting[0]?.reason).toMatch(/HAL9_TEST_POD_RUNNER: ns\/c not started: maxProcesses 2 reached/);
  });
});

describe('proxyRoutes', () => {
  const service = (clusterIP: string, targetPort?: number | string): V1Service => ({
    metadata: { namespace: 'ns', name: 's' },
    spec: { clusterIP, selector: { app: 'a' }, ports: [{ port: 80, ...(targetPort ? { targetPort } : {}) }] },
  });

  it('routes a loopback ClusterIP to the ready processes its selector matches', () => {
    const entries = [
      entry('a', '127.9.0.2', 'ready'),
      entry('b', '127.9.0.1', 'ready'),
      entry('c', '127.9.0.3', 'starting'),
      { ...entry('d', '127.9.0.4', 'ready'), labels: { app: 'other' } },
    ];
    expect(proxyRoutes([service('127.9.254.3', 'http')], entries, isLoopbackIp)).toEqual([
      {
        listen: { host: '127.9.254.3', port: 80 },
        service: 'ns/s',
        backends: ['127.9.0.1:8080', '127.9.0.2:8080'],
      },
    ]);
    expect(proxyRoutes([service('127.9.254.3', 9000)], entries, isLoopbackIp)[0]?.backends).toEqual([
      '127.9.0.1:9000',
      '127.9.0.2:9000',
    ]);
  });

  it('never listens on a non-loopback ClusterIP', () => {
    expect(proxyRoutes([service('10.0.0.3')], [entry('a', '127.9.0.1', 'ready')], isLoopbackIp)).toEqual([]);
  });
});

describe('readinessStatus', () => {
  const now = new Date(1_000);
  const kwokReady: V1Pod = {
    metadata: { name: 'p' },
    status: {
      phase: 'Running',
      podIP: '127.9.0.1',
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
      ],
      containerStatuses: [{ name: 'runtime', image: 'x', imageID: '', ready: true, restartCount: 0 }],
    },
  };

  it('turns a pod kwok marked Ready to not Ready until the process answers', () => {
    const status = readinessStatus(kwokReady, false, now);
    expect(status?.phase).toBe('Running');
    expect(status?.podIP).toBe('127.9.0.1');
    expect(status?.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'Initialized=True',
      'ContainersReady=False',
      'Ready=False',
    ]);
    expect(status?.containerStatuses?.map((c) => c.ready)).toEqual([false]);
  });

  it('changes nothing when the status already agrees', () => {
    expect(readinessStatus(kwokReady, true, now)).toBeUndefined();
    const notReady = { ...kwokReady, status: readinessStatus(kwokReady, false, now) };
    expect(readinessStatus(notReady, false, now)).toBeUndefined();
    expect(readinessStatus(notReady, true, now)?.conditions?.find((c) => c.type === 'Ready')?.status).toBe(
      'True',
    );
  });
});
