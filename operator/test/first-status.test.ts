import { waitFor } from '@hal9/test';
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Neuron } from '../src/api-types.ts';
import { aCluster, aNeuron } from './support/builders.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';
import { condition } from './support/reads.ts';

// A new Neuron's first status waits for its first rollout (--first-status-wait-ms, default 2 s), so a
// quick rollout is one status write, Ready, not RollingOut then Ready; 0 writes it at the first pass.
// The wait here is the flag's longest, 10 s: a kwok rollout on this plane takes well under it.
const waiting = useOperatorNamespace('first-status-wait', {
  args: () => ['--first-status-wait-ms', '10000'],
});
const atOnce = useOperatorNamespace('first-status-now', { args: () => ['--first-status-wait-ms', '0'] });

/** Every version of the namespace's Neurons the apiserver stores from now on, as a watch sees them. */
async function watchNeurons(kc: KubeConfig, namespace: string) {
  const seen: Neuron[] = [];
  let failed: unknown;
  const abort = await new Watch(kc).watch(
    `/apis/hal9.ai/v1alpha1/namespaces/${namespace}/neurons`,
    {},
    (phase, obj: Neuron) => {
      if (phase === 'ADDED' || phase === 'MODIFIED') seen.push(obj);
    },
    (err) => {
      if (err) failed = err;
    },
  );
  return {
    /** The statuses written, in order (versions that changed only metadata left out). */
    statuses(name: string) {
      if (failed) throw failed;
      const versions = seen.filter((n) => n.metadata?.name === name && n.status?.conditions);
      return versions.filter(
        (n, i) => i === 0 || JSON.stringify(n.status) !== JSON.stringify(versions[i - 1]?.status),
      );
    },
    stop: () => abort.abort(),
  };
}

async function untilReady(w: Awaited<ReturnType<typeof watchNeurons>>, name: string) {
  return waitFor(
    `Neuron ${name} Ready`,
    async () => {
      const statuses = w.statuses(name);
      return condition(statuses.at(-1), 'Ready')?.status === 'True' ? statuses : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50 },
  );
}

describe("a new Neuron's first status", () => {
  it('is written once, Ready, when its rollout completes within the wait', async () => {
    const w = await watchNeurons(waiting.kc, waiting.name);
    try {
      await waiting.apply([aCluster('hal9'), aNeuron('quick', 'hal9')]);
      const statuses = await untilReady(w, 'quick');
      expect(statuses.map((n) => condition(n, 'Progressing')?.reason)).toEqual(['Reconciled']);
      expect(statuses[0]?.status?.observedGeneration).toBe(1);
    } finally {
      w.stop();
    }
  });

  it('is written at the first pass, RollingOut, with --first-status-wait-ms 0', async () => {
    const w = await watchNeurons(atOnce.kc, atOnce.name);
    try {
      await atOnce.apply([aCluster('hal9'), aNeuron('quick', 'hal9')]);
      const statuses = await untilReady(w, 'quick');
      // The first pass created the Deployment: no pod of it had started yet.
      expect(condition(statuses[0], 'Progressing')).toMatchObject({ status: 'True', reason: 'RollingOut' });
      expect(condition(statuses.at(-1), 'Progressing')?.reason).toBe('Reconciled');
    } finally {
      w.stop();
    }
  });
});
