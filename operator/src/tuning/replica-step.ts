import { errorMessage } from '../errors.ts';
import { rfc3339 } from '../status/rfc3339.ts';
import { fanOutSnapshot } from './fan-out-snapshot.ts';
import type { NeuronStep } from './neuron-step.ts';
import { prometheusSource } from './prometheus-source.ts';
import { podReplicaSignals, prometheusReplicaSignals } from './replica-signals.ts';
import { decideScale, heldCondition, replicaOwnership } from './scale-decision.ts';
import type { TunerDeps } from './tuner-deps.ts';
import type { ScaleStatus } from './tuner-status.ts';

// The tuner's replica step for one Neuron (operator mode): read its Prometheus (when that is its
// source), decide (scale-decision.ts), write the Neuron's scale subresource, and say why.

export type ReplicaStepDeps = Pick<TunerDeps, 'events' | 'logger' | 'observer' | 'options' | 'scaleNeuron'>;

/** Replicas for one Neuron (operator mode): decide, write the scale subresource, say why. */
export async function scaleReplicas(
  deps: ReplicaStepDeps,
  { t, mem, view, prediction, now, read }: NeuronStep,
): Promise<ScaleStatus> {
  const { logger, observer, options } = deps;
  const namespace = t.neuron.metadata?.namespace ?? '';
  const name = t.neuron.metadata?.name ?? '';
  const owner = replicaOwnership(t, mem, now);
  const source = t.fromPods ? undefined : prometheusSource(t, options);
  const signals = source
    ? prometheusReplicaSignals(t, source, await read(source), owner.base)
    : podReplicaSignals(t, view, owner.base);
  observer?.concurrency?.(namespace, name, 'stable', signals.stable);
  observer?.concurrency?.(namespace, name, 'panic', signals.panic);
  observer?.predicted?.(namespace, name, prediction?.concurrency);
  const slotsPerPod = t.tuneParallelism ? mem.state.current : t.spec.performance.maxConcurrentSignals;
  const o = decideScale({ target: t, mem, owner, signals, prediction, slotsPerPod, now });
  observer?.replicaDecided?.(o.decision.reason);
  mem.replicas = o.replicas;
  const w = o.write;
  if (w) {
    try {
      const version = await deps.scaleNeuron?.(namespace, name, w.target);
      // false: the Neuron is gone (404), so no scale was made, and no Event or log says one was.
      if (version !== false) {
        mem.before = owner.live;
        mem.writtenVersion = typeof version === 'string' ? version : '';
        mem.written = w.target;
        mem.writtenAt = now;
        deps.events.record(t.neuron, w.event.type, w.event.reason, w.event.message);
        const detail = { neuron: t.key, from: owner.live, to: w.target, reason: o.reason, detail: w.message };
        logger.info(detail, 'Scaled Neuron');
        mem.replicaDecision = w.status;
      }
    } catch (err) {
      logger.warn({ neuron: t.key, err: errorMessage(err) }, 'Failed to scale Neuron');
    }
  } else if (o.settled) {
    mem.written = o.decision.value;
  }
  observer?.replicas?.(namespace, name, mem.written ?? owner.live);
  for (const [target, v] of Object.entries(mem.fanOut)) observer?.fanOut?.(namespace, name, target, v);
  const decidedNow = mem.replicaDecision?.time === rfc3339(now);
  mem.fanOutStatus = fanOutSnapshot(mem.fanOut, mem.fanOutStatus, decidedNow);
  return {
    status: {
      desiredReplicas: mem.written ?? owner.live,
      ...(mem.replicaDecision ? { lastDecision: mem.replicaDecision } : {}),
      ...(Object.keys(mem.fanOutStatus).length > 0 ? { fanOut: { ...mem.fanOutStatus } } : {}),
    },
    condition: heldCondition(signals.condition, o.decision, owner.base),
  };
}
