import type { V1Pod, V1Volume } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { aWaitingPod } from '../testing/builders.ts';
import { podProblems, slowStartMs } from './pod-problems.ts';

const pending = (message: string): V1Pod => ({
  status: {
    phase: 'Pending',
    conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message }],
  },
});
const waiting = (reason: string, message = ''): V1Pod => ({
  status: {
    phase: 'Running',
    containerStatuses: [
      {
        name: 'runtime',
        ready: false,
        restartCount: 3,
        image: 'x',
        imageID: '',
        state: { waiting: { reason, message } },
      },
    ],
  },
});
const NOW = Date.parse('2026-12-05T12:00:00Z');
/** A pod the scheduler placed `ago` ms before NOW whose containers the kubelet has not created. */
const starting = (ago: number, volumes: V1Volume[] = [], reason = 'ContainerCreating'): V1Pod =>
  aWaitingPod({ name: 'n1-7d9f-abcde', reason, scheduledAt: new Date(NOW - ago), volumes });
const secretVolume = (name: string, secretName: string, optional?: boolean): V1Volume => ({
  name,
  secret: { secretName, ...(optional === undefined ? {} : { optional }) },
});
/** A pod the kubelet refused to admit: phase Failed, with its reason and message. */
const refused = (reason: string, message: string, ago = 60_000): V1Pod => ({
  metadata: { name: 'n1-7d9f-fghij', creationTimestamp: new Date(NOW - ago) },
  status: { phase: 'Failed', reason, message },
});
const running: V1Pod = {
  status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] },
};

describe('podProblems', () => {
  it('leaves out Failed pods older than a progress deadline: an eviction of weeks ago says nothing of this rollout', () => {
    const weeksAgo = refused('Evicted', 'The node was low on resource: memory.', 21 * 24 * 3_600_000);
    expect(podProblems([weeksAgo, running], NOW)).toBeUndefined();
    expect(
      podProblems([refused('Evicted', 'The node was low on resource: memory.', 9 * 60_000)], NOW),
    ).toContain('1 pod Failed: Evicted');
  });

  it("carries the scheduler's reason for Pending pods, counted", () => {
    const msg = '0/3 nodes are available: 3 Insufficient cpu.';
    expect(podProblems([pending(msg), pending(msg), running], NOW)).toBe(
      `2 pods Pending (Unschedulable): ${msg}`,
    );
  });

  it('names containers that cannot run, by reason', () => {
    expect(podProblems([waiting('CrashLoopBackOff', 'back-off 40s'), waiting('ImagePullBackOff')], NOW)).toBe(
      '1 pod CrashLoopBackOff (container runtime): back-off 40s; 1 pod ImagePullBackOff (container runtime)',
    );
  });

  it('says nothing for pods that run or merely start', () => {
    expect(podProblems([running, waiting('ContainerCreating')], NOW)).toBeUndefined();
    expect(podProblems([starting(slowStartMs - 1)], NOW)).toBeUndefined();
  });

  it('names the Secrets a pod mounts once it has waited slowStartMs for its containers, with their fields', () => {
    const pod = starting(slowStartMs, [
      { name: 'config', configMap: { name: 'n1-config' } },
      secretVolume('otlp-headers', 'otel-token'),
      secretVolume('peer-token', 'c1-peer-token'),
      secretVolume('extra', 'from-a-patch'),
      secretVolume('maybe', 'optional-one', true),
    ]);
    expect(podProblems([pod, pod], NOW)).toBe(
      '2 pods ContainerCreating for over 1 min: mounts Secret "otel-token" (tracing.headersSecretRef), ' +
        `Secret "c1-peer-token" (the Hal9Cluster's peer token), Secret "from-a-patch": a missing Secret or key ` +
        'keeps it there (kubectl describe pod n1-7d9f-abcde shows FailedMount), else its image is still being pulled',
    );
  });

  it('counts a pod whose init containers have not started, and not one whose init container runs', () => {
    const initWaiting: V1Pod = { ...starting(2 * slowStartMs, [], 'PodInitializing') };
    initWaiting.status = {
      ...initWaiting.status,
      initContainerStatuses: [
        {
          name: 'sysctl',
          ready: false,
          restartCount: 0,
          image: 'x',
          imageID: '',
          state: { waiting: { reason: 'PodInitializing' } },
        },
      ],
    };
    expect(podProblems([initWaiting], NOW)).toMatch(
      /^1 pod ContainerCreating for over 1 min: a missing Secret/,
    );
    const initRuns: V1Pod = {
      ...initWaiting,
      status: {
        ...initWaiting.status,
        initContainerStatuses: [
          { name: 'sysctl', ready: false, restartCount: 0, image: 'x', imageID: '', state: { running: {} } },
        ],
      },
    };
    expect(podProblems([initRuns], NOW)).toBeUndefined();
  });

  it('counts pods the kubelet refused to admit by reason, with what to do', () => {
    const sysctl = 'Pod forbidden sysctl: "net.ipv4.tcp_rmem" not allowlisted';
    expect(
      podProblems(
        [
          refused('SysctlForbidden', sysctl),
          refused('SysctlForbidden', sysctl),
          refused('SysctlForbidden', sysctl),
        ],
        NOW,
      ),
    ).toBe(
      `3 pods Failed: SysctlForbidden: ${sysctl}; the node's kubelet does not allow a sysctl of nodeTuning.sysctls ` +
        "(net.ipv4.tcp_rmem and tcp_wmem only from Kubernetes 1.32): leave it out, run the pods on newer nodes, or allow it in the kubelet's allowedUnsafeSysctls",
    );
    const text = podProblems(
      [
        refused(
          'OutOfhugepages-2Mi',
          "Node didn't have enough resource: hugepages-2Mi, requested: 536870912, used: 0, capacity: 0",
        ),
        refused('UnexpectedAdmissionError', "Allocate failed due to can't allocate unhealthy devices"),
        refused('Evicted', 'The node was low on resource: memory.'),
        pending('0/3 nodes are available'),
      ],
      NOW,
    )!;
    expect(text).toContain('1 pod Pending (Unschedulable): 0/3 nodes are available');
    expect(text).toContain('1 pod Failed: Evicted: The node was low on resource: memory.');
    expect(text).toContain(
      "1 pod Failed: OutOfhugepages-2Mi: Node didn't have enough resource: hugepages-2Mi, requested: 536870912, used: 0, capacity: 0; " +
        "the node's kubelet found fewer free hugepages than nodeTuning.hugepages.quantity asks for",
    );
    expect(text).toContain(
      "1 pod Failed: UnexpectedAdmissionError: Allocate failed due to can't allocate unhealthy devices; the node's kubelet failed to admit the pod",
    );
  });

  it("bounds a refused pod's message, and keeps what to do after it", () => {
    const text = podProblems([refused('SysctlForbidden', 'x'.repeat(10_000))], NOW)!;
    expect(text.length).toBeLessThan(800);
    expect(text).toMatch(/x…; the node's kubelet does not allow a sysctl/);
  });

  it('names the sysctls of a pod slow to start, and FailedCreatePodSandBox as a cause', () => {
    const pod = starting(slowStartMs, [secretVolume('peer-token', 'c1-peer-token')]);
    pod.spec!.securityContext = {
      sysctls: [
        { name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' },
        { name: 'net.ipv4.tcp_wmem', value: '4096 16384 4194304' },
      ],
    };
    expect(podProblems([pod], NOW)).toBe(
      `1 pod ContainerCreating for over 1 min: mounts Secret "c1-peer-token" (the Hal9Cluster's peer token) and ` +
        'sets the sysctls net.ipv4.tcp_rmem, net.ipv4.tcp_wmem (nodeTuning.sysctls): a missing Secret or key (FailedMount) ' +
        "or a sysctl the node's kernel refuses (FailedCreatePodSandBox) keeps it there (kubectl describe pod n1-7d9f-abcde " +
        'shows which), else its image is still being pulled',
    );
  });

  it('bounds the message of a thousand pods', () => {
    const many = Array.from({ length: 1000 }, () => pending('x'.repeat(10_000)));
    const text = podProblems(many, NOW)!;
    expect(text.startsWith('1000 pods Pending (Unschedulable): ')).toBe(true);
    expect(text.length).toBeLessThan(600);
  });
});
