import { describe, expect, it } from 'vitest';
import type { Hal9Cluster } from '../api-types.ts';
import { CLUSTER_READ_REUSE_MS, type LiveClusterReader, sharedLiveClusterReader } from './cluster-reader.ts';

const cluster = (name: string, uid: string): Hal9Cluster =>
  ({
    apiVersion: 'hal9.ai/v1alpha1',
    kind: 'Hal9Cluster',
    metadata: { namespace: 'ns', name, uid },
  }) as Hal9Cluster;

/** A reader that counts its calls and answers with the uid it holds now (or fails when told to). */
function apiserver() {
  const state = { uid: 'u1', calls: 0, fail: false };
  const read: LiveClusterReader = async (_ns, name) => {
    state.calls++;
    if (state.fail) throw new Error('apiserver unavailable');
    return cluster(name, state.uid);
  };
  return { state, read };
}

describe('sharedLiveClusterReader', () => {
  it('asks once for the Neurons of one burst, and again once the answer is older than the window', async () => {
    const { state, read } = apiserver();
    let t = 10_000;
    const shared = sharedLiveClusterReader(read, () => t);
    const answers = await Promise.all(Array.from({ length: 50 }, () => shared('ns', 'c1')));
    expect(state.calls).toBe(1);
    expect(new Set(answers.map((c) => c?.metadata?.uid))).toEqual(new Set(['u1']));
    // Re-created: within the window the old answer stands, past it the new uid is read.
    state.uid = 'u2';
    t += CLUSTER_READ_REUSE_MS - 1;
    expect((await shared('ns', 'c1'))?.metadata?.uid).toBe('u1');
    t += 1;
    expect((await shared('ns', 'c1'))?.metadata?.uid).toBe('u2');
    expect(state.calls).toBe(2);
  });

  it('keeps each cluster apart', async () => {
    const { state, read } = apiserver();
    const shared = sharedLiveClusterReader(read, () => 0);
    expect((await shared('ns', 'a'))?.metadata?.name).toBe('a');
    expect((await shared('ns', 'b'))?.metadata?.name).toBe('b');
    expect((await shared('other', 'a'))?.metadata?.name).toBe('a');
    expect(state.calls).toBe(3);
  });

  it('does not keep a failed read: the next caller asks again', async () => {
    const { state, read } = apiserver();
    const shared = sharedLiveClusterReader(read, () => 0);
    state.fail = true;
    await expect(shared('ns', 'c1')).rejects.toThrow('apiserver unavailable');
    state.fail = false;
    expect((await shared('ns', 'c1'))?.metadata?.uid).toBe('u1');
    expect(state.calls).toBe(2);
  });

  it('reads again when the clock went back', async () => {
    const { state, read } = apiserver();
    let t = 5_000;
    const shared = sharedLiveClusterReader(read, () => t);
    await shared('ns', 'c1');
    t = 4_000;
    await shared('ns', 'c1');
    expect(state.calls).toBe(2);
  });
});
