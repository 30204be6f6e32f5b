import { kubeconfigPathFromInject, waitFor } from '@hal9/test';
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, describe, expect, it } from 'vitest';
import { aCluster, aNeuron } from './support/builders.ts';
import { type OperatorProcess, scrape, startChildProcess } from './support/operator-harness.ts';
import { useOperatorNamespace } from './support/operator-namespace.ts';

const space = useOperatorNamespace('operator-leader', { operator: false });
const { kc, reads: r, apply } = space;
const processes: OperatorProcess[] = [];

afterAll(() => {
  for (const p of processes) p.child.kill('SIGKILL');
});

const leaseHolder = async () =>
  (
    await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: 'hal9-operator-leader', namespace: space.name })
  ).spec?.holderIdentity;

const reconciles = async (p: OperatorProcess) =>
  (await scrape(await p.metricsPort(), 'controller_runtime_reconcile_total', {
    controller: 'neuron',
    result: 'success',
  })) ?? 0;

describe('two operator processes with --leader-elect', () => {
  it('let only the leader reconcile, and the standby takes over after the leader is killed', {
    timeout: 150_000,
  }, async () => {
    const args = ['--leader-elect', '--leader-election-namespace', space.name];
    const a = startChildProcess(kubeconfigPathFromInject(), space.name, 'operator-a', args);
    processes.push(a);
    const masterStatus = async (p: OperatorProcess) =>
      scrape(await p.metricsPort(), 'leader_election_master_status', { name: 'hal9-operator-leader' });
    // operator-a sets its gauge once its Lease write returns, after the Lease reads as its own.
    await waitFor(
      'operator-a leads',
      async () =>
        (await leaseHolder().catch(() => undefined)) === 'operator-a' && (await masterStatus(a)) === 1
          ? true
          : undefined,
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    const b = startChildProcess(kubeconfigPathFromInject(), space.name, 'operator-b', args);
    processes.push(b);
    await b.metricsPort();
    expect(await masterStatus(b)).toBe(0);
    expect(await masterStatus(a)).toBe(1);

    await apply([aCluster('le'), aNeuron('first', 'le')]);
    await waitFor('first reconciled', () => r.deployment('first'), { timeoutMs: 30_000 });
    // The Deployment appears mid-reconcile; the success is counted once its status is written.
    await waitFor(
      'operator-a counts the reconcile',
      async () => ((await reconciles(a)) > 0 ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    expect(await reconciles(b)).toBe(0);
    // The standby's informers see every object, but its queues stand by: their depth is the leader's.
    for (const controller of ['neuron', 'hal9cluster'])
      expect(await scrape(await b.metricsPort(), 'workqueue_depth', { controller })).toBe(0);

    a.child.kill('SIGKILL');
    await a.exited();
    const killedAt = Date.now();
    // Lease 15 s + retry 2 s (jittered): the standby leads within the 20 s the issue asks for; the
    // deadline leaves room for a loaded machine, and the measured time is printed.
    await waitFor(
      'operator-b leads',
      async () => ((await leaseHolder()) === 'operator-b' ? true : undefined),
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    console.log(`standby took over ${Date.now() - killedAt} ms after the leader was killed`);
    await apply([aNeuron('second', 'le')]);
    await waitFor('second reconciled by operator-b', () => r.deployment('second'), { timeoutMs: 30_000 });
    await waitFor(
      'operator-b counts the reconcile',
      async () => ((await reconciles(b)) > 0 ? true : undefined),
      {
        timeoutMs: 30_000,
        intervalMs: 250,
      },
    );
    // Its queue waits start when it leads: "first" stood in its queue while operator-a led (more
    // than the Lease's 15 s), which is no wait of the leader's: counted, the sum would pass 15 s by construction.
    const waited = await scrape(await b.metricsPort(), 'workqueue_queue_duration_seconds_sum', {
      controller: 'neuron',
    });
    expect(waited).toBeLessThan(15);
  });

  it('hands the Lease back on SIGTERM', { timeout: 60_000 }, async () => {
    const b = processes[1]!;
    b.child.kill('SIGTERM');
    expect(await b.exited()).toBe(0);
    expect(await leaseHolder()).toBe('');
  });
});
