import { describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../api-types.ts';
import { CLUSTER_READ_REUSE_MS, type LiveClusterReader, sharedLiveClusterReader } from './cluster-reader.ts';

const cluster = (name: string, uid: string, deleting = false): Hal9Cluster =>
  ({
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Hal9Cluster',
    metadata: {
      namespace: 'ns',
      name,
      uid,
      ...(deleting ? { deletionTimestamp: new Date('2026-12-07T00:00:00Z') } : {}),
    },
  }) as Hal9Cluster;

/** The apiserver's answer to a read: the cluster it holds now (none, being deleted) or a failure. */
function apiserver() {
  const state = { uid: 'u1' as string | undefined, deleting: false, calls: 0, fail: false };
  const read: LiveClusterReader = async (_ns, name) => {
    state.calls++;
    if (state.fail) throw new Error('apiserver unavailable');
    return state.uid === undefined ? undefined : cluster(name, state.uid, state.deleting);
  };
  return { state, read };
}

describe('sharedLiveClusterReader', () => {
  it('asks once for the Neurons of one burst, and again once the answer is older than the window', async () => {
    const { state, read } = apiserver();
    let t = 10_000;
    const shared = sharedLiveClusterReader(read, () => t);
    const answers = await Promise.all(Array.from({ length: 50 }, () => shared('ns', 'c1', 'u1', 0)));
    expect(state.calls).toBe(1);
    expect(new Set(answers.map((c) => c?.metadata?.uid))).toEqual(new Set(['u1']));
    // Re-created while the cache still shows the old one: past the window the new uid is read.
    state.uid = 'u2';
    t += CLUSTER_READ_REUSE_MS - 1;
    expect((await shared('ns', 'c1', 'u1', 0))?.metadata?.uid).toBe('u1');
    t += 1;
    expect((await shared('ns', 'c1', 'u1', 0))?.metadata?.uid).toBe('u2');
    expect(state.calls).toBe(2);
  });

  it('is shared only with Neurons delivered before it was asked: a later one may be the re-created cluster’s', async () => {
    const { state, read } = apiserver();
    let t = 1_000;
    const shared = sharedLiveClusterReader(read, () => t);
    await shared('ns', 'c1', 'u1', 500);
    // Re-created at 1,200; a Neuron of the new cluster is delivered at 1,300, while the cluster cache
    // still holds the old one: the answer from 1,000 is older than the Neuron, so it is read again.
    state.uid = 'u2';
    t = 1_400;
    expect((await shared('ns', 'c1', 'u1', 1_300))?.metadata?.uid).toBe('u2');
    // A Neuron never delivered (no time known) shares nothing either.
    expect((await shared('ns', 'c1', 'u2', undefined))?.metadata?.uid).toBe('u2');
    expect(state.calls).toBe(3);
    // One delivered before the newest read shares it.
    expect((await shared('ns', 'c1', 'u2', 1_350))?.metadata?.uid).toBe('u2');
    expect(state.calls).toBe(3);
  });

  it('reads again at once when the cache shows another cluster than the kept answer', async () => {
    const { state, read } = apiserver();
    const shared = sharedLiveClusterReader(read, () => 0);
    await shared('ns', 'c1', 'u1', 0);
    // Deleted and re-created, and the cache already holds the new one: the old answer is not used.
    state.uid = 'u2';
    expect((await shared('ns', 'c1', 'u2', 0))?.metadata?.uid).toBe('u2');
    expect((await shared('ns', 'c1', 'u2', 0))?.metadata?.uid).toBe('u2');
    expect(state.calls).toBe(2);
  });

  it('reads again when the kept answer was a cluster gone or being deleted', async () => {
    const { state, read } = apiserver();
    const shared = sharedLiveClusterReader(read, () => 0);
    state.uid = undefined;
    expect(await shared('ns', 'c1', 'u1', 0)).toBeUndefined();
    state.uid = 'u2';
    expect((await shared('ns', 'c1', 'u2', 0))?.metadata?.uid).toBe('u2');

    state.deleting = true;
    const deleting = sharedLiveClusterReader(read, () => 0);
    expect((await deleting('ns', 'c2', 'u2', 0))?.metadata?.deletionTimestamp).toBeDefined();
    state.deleting = false;
    expect((await deleting('ns', 'c2', 'u2', 0))?.metadata?.deletionTimestamp).toBeUndefined();
    expect(state.calls).toBe(4);
  });

  it('keeps each cluster apart', async () => {
    const { state, read } = apiserver();
    const shared = sharedLiveClusterReader(read, () => 0);
    expect((await shared('ns', 'a', 'u1', 0))?.metadata?.name).toBe('a');
    expect((await shared('ns', 'b', 'u1', 0))?.metadata?.name).toBe('b');
    expect((await shared('other', 'a', 'u1', 0))?.metadata?.name).toBe('a');
    expect(state.calls).toBe(3);
  });

  it('does not keep a failed read: the next caller asks again', async () => {
    const { state, read } = apiserver();
    const shared = sharedLiveClusterReader(read, () => 0);
    state.fail = true;
    await expect(shared('ns', 'c1', 'u1', 0)).rejects.toThrow('apiserver unavailable');
    state.fail = false;
    expect((await shared('ns', 'c1', 'u1', 0))?.metadata?.uid).toBe('u1');
    expect(state.calls).toBe(2);
  });

  it('reads again when the clock went back', async () => {
    const { state, read } = apiserver();
    let t = 5_000;
    const shared = sharedLiveClusterReader(read, () => t);
    await shared('ns', 'c1', 'u1', 0);
    t = 4_000;
    await shared('ns', 'c1', 'u1', 0);
    expect(state.calls).toBe(2);
  });
});
