import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podProblems } from './pod-problems.ts';

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
const running: V1Pod = {
  status: { phase: 'Running', conditions: [{ type: 'PodScheduled', status: 'True' }] },
};

describe('podProblems', () => {
  it("carries the scheduler's reason for Pending pods, counted", () => {
    const msg = '0/3 nodes are available: 3 Insufficient cpu.';
    expect(podProblems([pending(msg), pending(msg), running])).toBe(`2 pods Pending (Unschedulable): ${msg}`);
  });

  it('names containers that cannot run, by reason', () => {
    expect(podProblems([waiting('CrashLoopBackOff', 'back-off 40s'), waiting('ImagePullBackOff')])).toBe(
      '1 pod CrashLoopBackOff (container runtime): back-off 40s; 1 pod ImagePullBackOff (container runtime)',
    );
  });

  it('says nothing for pods that run or merely start', () => {
    expect(podProblems([running, waiting('ContainerCreating')])).toBeUndefined();
  });

  it('bounds the message of a thousand pods', () => {
    const many = Array.from({ length: 1000 }, () => pending('x'.repeat(10_000)));
    const text = podProblems(many)!;
    expect(text.startsWith('1000 pods Pending (Unschedulable): ')).toBe(true);
    expect(text.length).toBeLessThan(400);
  });
});
